"""The invoice pages' bench scenarios (bench/billing_invoices.py) on small firms
filled by the billing seeder: each page answers, with the same queries at both
sizes (the count does not grow with the firm)."""

from __future__ import annotations

from io import StringIO

import pytest

from bench import harness as bench

pytestmark = pytest.mark.django_db

SCENARIOS = {
    "invoice_list_first_page",
    "invoice_list_deep_page",
    "invoice_list_overdue",
    "invoice_list_number",
    "invoice_page",
}


def test_the_invoice_scenarios_answer_with_the_same_queries_at_both_sizes(media_root):
    results = bench.run(
        stdout=StringIO(),
        firms=(("bench-a", 60), ("bench-b", 180)),
        only="invoice_list,invoice_page",
        runs=2,
    )
    pages = [m for m in results if m.scenario != bench.FLOOR]

    assert {m.scenario for m in pages} == SCENARIOS
    for name in SCENARIOS:
        small, large = (m for m in pages if m.scenario == name)
        assert small.queries == large.queries, name
        assert small.target_p95_ms == large.target_p95_ms == 25.0
