"""The benchmark harness behind `make bench` (bench/harness.py), on small firms."""

from __future__ import annotations

import ast
import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management.base import OutputWrapper
from django.test import RequestFactory

from advisoros.tenancy.db import tenant_context
from bench import harness as bench
from bench.views import FLOOR_ROWS, floor
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
    floor, pages = results[:2], results[2:]
    assert [(m.scenario, m.size) for m in floor] == [
        ("django_floor", 40),
        ("django_floor", 120),
    ]
    assert {m.scenario for m in pages} == {
        "client_list_first_page",
        "client_list_deep_page",
        "client_list_filtered",
    }
    for m in pages:
        assert len(m.times_ms) == len(m.floor_ms) == 3
        assert m.queries > 0
        assert 0 < m.p50 <= m.p95
        # The floor is a bare page: every firm page costs more.
        assert m.floor_ratio == m.p95 / m.floor_p95 and m.floor_ratio > 1
    for m in floor:
        # Every floor request of the run at that size: three pages, three runs.
        assert len(m.times_ms) == 9
        # Session, user, the RLS settings set for the user (the tenancy
        # middleware, outside /o/), the rows, the settings reset.
        assert m.queries == 5
    assert json.loads(path.read_text()) == records
    first = [r for r in records if r["name"].startswith("client_list_first_page.")]
    assert {(r["name"], r["unit"], r["dataset_size"]) for r in first} == {
        ("client_list_first_page.p50_ms", "ms", 40),
        ("client_list_first_page.p95_ms", "ms", 40),
        ("client_list_first_page.queries", "queries", 40),
        ("client_list_first_page.p50_ms", "ms", 120),
        ("client_list_first_page.p95_ms", "ms", 120),
        ("client_list_first_page.queries", "queries", 120),
        ("client_list_first_page.floor_ratio", "ratio", 40),
        ("client_list_first_page.floor_ratio", "ratio", 120),
        ("client_list_first_page.p95_ratio", "ratio", 120),
    }
    assert {r["name"] for r in records if r["name"].startswith("django_floor.")} == {
        "django_floor.p50_ms",
        "django_floor.p95_ms",
        "django_floor.queries",
        "django_floor.p95_ratio",
    }


def test_the_printed_table_has_each_pages_ratio_to_the_floor(tmp_path):
    def m(name, size, p95, floor_p95):
        return bench.Measurement(name, size, [p95], 9, floor_ms=[floor_p95])

    out = OutputWrapper(StringIO())
    bench.report(
        [
            bench.Measurement("django_floor", 1_000, [4.0], 3),
            m("client_list", 1_000, 16.0, 4.0),
            m("client_list", 100_000, 18.0, 4.5),
        ],
        stdout=out,
        path=tmp_path / "r.json",
    )

    head, rule, floor, small, large = out._out.getvalue().splitlines()
    assert head.split()[-4:] == ["floor", "ms", "floor", "x"]
    assert small.split()[-2:] == ["4.00", "4.00"]  # floor p95, 16 / 4
    assert large.split()[-3:] == ["1.12", "4.50", "4.00"]  # ratio, 18 / 4.5
    assert floor.split()[-1] == "3"  # the floor's own row ends with its queries


def test_the_floor_is_a_bare_page_of_fifty_rows_from_one_query(
    client, django_assert_num_queries
):
    # The view's one query, and around it what every request outside /o/ pays:
    # the tenancy middleware clears the RLS settings before and after (no
    # firm, no memberships, no navigation).
    with django_assert_num_queries(1):
        direct = floor(RequestFactory().get("/__bench__/floor/"))
    with django_assert_num_queries(3):
        response = client.get("/__bench__/floor/")

    assert response.status_code == direct.status_code == 200
    html = response.content.decode()
    assert FLOOR_ROWS == 50
    assert html.count("<tr><td>") == direct.content.decode().count("<tr><td>") == 50
    assert "<nav" not in html


def test_missed_targets_leave_the_floor_out():
    slow_floor = [bench.Measurement("django_floor", n, [30.0], 3) for n in (1, 2)]
    assert bench.misses(slow_floor) == []


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
    from bench.workflows import owner_page_fill
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


def test_no_production_app_imports_the_bench():
    """bench/ may import every app; none of them may import it back (it is not
    installed in production)."""
    offenders = []
    for app in ("advisoros", "clients", "documents", "portal", "workflows"):
        for source in (settings.BASE_DIR / app).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                if any(n == "bench" or n.startswith("bench.") for n in names):
                    offenders.append(str(source.relative_to(settings.BASE_DIR)))
    assert offenders == []


def test_only_picks_names_containing_it_or_any_of_its_comma_separated_parts():
    assert bench.chosen_by("", "board")
    assert bench.chosen_by("client_list", "client_list_deep_page")
    assert bench.chosen_by("board,my_work", "my_work")
    assert not bench.chosen_by("board,my_work", "workflow_list")
    assert not bench.chosen_by(",", "board")


def test_a_scenario_with_its_own_target_misses_only_past_it():
    def m(name, size, p95, target):
        return bench.Measurement(
            name, size, times_ms=[p95] * 3, queries=9, target_p95_ms=target
        )

    # The money reports add up a whole ledger: 100 ms (issue 13), not 25.
    assert bench.misses([m("ar_ageing", 1, 60, 100), m("ar_ageing", 2, 70, 100)]) == []
    assert bench.misses([m("ar_ageing", 1, 95, 100), m("ar_ageing", 2, 101, 100)]) == [
        "ar_ageing: p95 101.0 ms at 2 clients"
    ]
    assert bench.misses([m("list", 1, 24, 25), m("list", 2, 26, 25)]) == [
        "list: p95 26.0 ms at 2 clients"
    ]
