"""The benchmark harness behind `make bench` (advisoros/bench.py), on small firms."""

from __future__ import annotations

import json
from io import StringIO

import pytest

from advisoros import bench
from advisoros.tenancy.db import tenant_context
from clients.models import Client

pytestmark = pytest.mark.django_db


def test_it_seeds_the_firms_measures_each_page_in_both_and_writes_json(tmp_path):
    out = StringIO()
    results = bench.run(
        stdout=out,
        firms=(("bench-a", 40), ("bench-b", 120)),
        only="client_list",
        runs=3,
    )
    path = tmp_path / "results.json"
    records = bench.report(results, stdout=out, path=path)

    firm = bench.bench_firm_ensure("bench-b")
    with tenant_context(firm.organization):
        assert Client.objects.count() == 120
    names = {m.scenario for m in results}
    assert names == {
        "client_list_first_page",
        "client_list_deep_page",
        "client_list_filtered",
    }
    for m in results:
        assert len(m.times_ms) == 3
        assert m.queries > 0
        assert 0 < m.p50 <= m.p95
    assert json.loads(path.read_text()) == records
    first = [r for r in records if r["name"].startswith("client_list_first_page.")]
    assert {(r["name"], r["unit"], r["dataset_size"]) for r in first} == {
        ("client_list_first_page.p50_ms", "ms", 40),
        ("client_list_first_page.p95_ms", "ms", 40),
        ("client_list_first_page.queries", "queries", 40),
        ("client_list_first_page.p50_ms", "ms", 120),
        ("client_list_first_page.p95_ms", "ms", 120),
        ("client_list_first_page.queries", "queries", 120),
        ("client_list_first_page.p95_ratio", "ratio", 120),
    }
    table = out.getvalue()
    assert "client_list_deep_page" in table and "p95 ms" in table


def test_a_second_run_reuses_the_seeded_firms():
    out = StringIO()
    bench.run(
        stdout=out, firms=(("bench-a", 30),), only="client_list_first_page", runs=1
    )
    assert "30 clients seeded" in out.getvalue()
    again = StringIO()
    bench.run(
        stdout=again, firms=(("bench-a", 30),), only="client_list_first_page", runs=1
    )
    assert "seeded" not in again.getvalue()


def test_it_names_each_missed_target():
    def m(size, p95, queries):
        return bench.Measurement("page", size, [p95], queries)

    assert bench.misses([m(1_000, 8.0, 5), m(100_000, 9.0, 5)]) == []
    missed = bench.misses([m(1_000, 10.0, 5), m(100_000, 30.0, 6)])
    assert missed == [
        "page: p95 30.0 ms at 100000 clients",
        "page: 100k/1k ratio 3.00",
        "page: query counts differ ([5, 6])",
    ]


def test_a_measure_without_its_data_is_skipped_and_named_among_the_misses(
    tmp_path, monkeypatch
):
    def unseeded(*, stdout):
        raise bench.MeasureSkipped("no data here: seed it first")

    def seeded(*, stdout):
        return [{"name": "other.value", "value": 1.0, "unit": "s"}]

    monkeypatch.setattr(bench, "_measures", {"unseeded": unseeded, "other": seeded})
    out = StringIO()
    extra = bench.run_measures(stdout=out)
    records = bench.report([], stdout=out, path=tmp_path / "r.json", extra=extra)

    assert "skipped: no data here: seed it first" in out.getvalue()
    assert records == [{"name": "other.value", "value": 1.0, "unit": "s"}]
    assert bench.misses([], extra) == [
        "unseeded: not measured (no data here: seed it first)"
    ]


def test_the_owner_gets_a_full_page_of_my_work_in_every_bench_firm():
    from workflows.bench import owner_page_fill
    from workflows.models import Task
    from workflows.selectors import ACTIONABLE_STATUSES
    from workflows.views.my_work import PAGE_SIZE

    bench.run(stdout=StringIO(), firms=(("bench-a", 1000),), only="my_work", runs=1)
    firm = bench.bench_firm_ensure("bench-a")
    with tenant_context(firm.organization):
        actionable = Task.objects.filter(status__in=ACTIONABLE_STATUSES)
        mine = actionable.filter(assignee=firm.owner).count()
        # A page and one more row, or every open task when the firm has fewer.
        assert mine == min(PAGE_SIZE + 1, actionable.count())
        assert mine > 20
        assert owner_page_fill(firm) == 0  # already full: nothing moves
