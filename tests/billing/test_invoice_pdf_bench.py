"""The bench's invoice PDF measure (bench/billing_invoices.py) on this machine:
a one-page invoice drawn as the issuing job draws it, timed beside a bare
table, with its figures and the target's verdict."""

from __future__ import annotations

from io import StringIO

import pytest

from advisoros.tenancy.db import tenant_context
from bench import harness as bench
from bench.billing_invoices import bench_invoice
from billing.models import Invoice

pytestmark = pytest.mark.django_db


def test_it_times_a_one_page_invoice_beside_a_bare_table(media_root):
    out = StringIO()

    records = bench.run_measures(stdout=out, only="invoice_pdf")

    by_name = {r["name"]: r for r in records}
    assert by_name["invoice_pdf.pages"]["value"] == 1
    median = by_name["invoice_pdf.median_s"]
    assert 0 < by_name["invoice_pdf.best_s"]["value"] <= median["value"]
    assert median["value"] <= by_name["invoice_pdf.p95_s"]["value"]
    assert by_name["invoice_pdf.bare_ratio"]["value"] > 1
    # The verdict follows the figure: a miss is named only when it is one.
    assert ("missed" in median) == (median["value"] >= 0.5)
    assert "one-page invoice (1 page" in out.getvalue()


def test_the_measures_invoice_is_made_once(media_root):
    first = bench_invoice()

    assert bench_invoice().pk == first.pk
    firm = bench.bench_firm_ensure("bench-pdf")
    with tenant_context(firm.organization):
        assert Invoice.objects.filter(organization=firm.organization).count() == 1
        assert first.lines.count() == 8
