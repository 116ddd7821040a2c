"""The workflows' part of `make bench` (see bench/harness.py): the data and the pages.

Tasks as many as the firm has clients: 1,000 in bench-1k, 100,000 in
bench-100k (bench/workflows_seed.py says how they are spread). The pages:
the owner's My work, the team board, and the workflow list. And a measure,
`workflow_query_plans`: the index each page's task queries read in bench-100k.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from bench.harness import (
    BenchFirm,
    bench_firm_ensure,
    query_plan,
    register_bench_seeder,
    register_measure,
    register_scenario,
)
from bench.workflows_seed import seed_tasks
from workflows.models import Task
from workflows.selectors import ACTIONABLE_STATUSES
from workflows.views.my_work import PAGE_SIZE as MY_WORK_PAGE_SIZE


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    result = seed_tasks(organization=firm.organization, tasks=firm.size, stdout=stdout)
    if result.tasks:
        stdout.write(
            f"{firm.organization.slug}: {result.tasks:,} tasks in"
            f" {result.executions:,} workflows seeded in {result.seconds:.1f} s"
        )
    given = owner_page_fill(firm)
    if given:
        stdout.write(f"{firm.organization.slug}: {given} open tasks given to the owner")


def owner_page_fill(firm: BenchFirm) -> int:
    """Give the owner a full page of My work (and one more row, so the page has
    a "Next" link), taking open tasks from others; return how many moved.

    The 100k/1k ratio should compare the same page at two sizes of firm. In
    bench-1k the owner's share of 1,000 tasks left twelve open ones, a page a
    quarter as long as bench-100k's, so the ratio measured rows, not scale."""
    wanted = MY_WORK_PAGE_SIZE + 1
    mine = Task.objects.filter(
        organization=firm.organization,
        assignee=firm.owner,
        status__in=ACTIONABLE_STATUSES,
    ).count()
    if mine >= wanted:
        return 0
    others = (
        Task.objects.filter(
            organization=firm.organization, status__in=ACTIONABLE_STATUSES
        )
        .exclude(assignee=firm.owner)
        .order_by("pk")
        .values("pk")[: wanted - mine]
    )
    return Task.objects.filter(pk__in=others).update(assignee=firm.owner)


@register_scenario("my_work")
def my_work(firm: BenchFirm) -> str:
    return reverse("workflows:my_work", args=[firm.organization.slug])


@register_scenario("board")
def board(firm: BenchFirm) -> str:
    return reverse("workflows:board", args=[firm.organization.slug])


@register_scenario("workflow_list")
def workflow_list(firm: BenchFirm) -> str:
    return reverse("workflows:execution_list", args=[firm.organization.slug])


# Which index each page query reads at 100,000 tasks ----------------------------------

# name -> (page path under /o/<slug>/, the indexes its task queries read, in order)
PLANS = {
    "my_work": ("work/", (("task_my_work",), ("task_org_assignee_due",))),
    "board": (
        "work/board/",
        (
            ("task_board_open", "task_recently_completed"),
            ("task_org_status_due", "task_recently_completed"),
        ),
    ),
    "board_column": ("work/board/?column=ready", (("task_board_open",),)),
    "workload": ("work/workload/", (("task_board_open",),)),
}


@register_measure("workflow_query_plans")
def workflow_query_plans(*, stdout) -> list[dict]:
    """EXPLAIN ANALYZE of the pages' task queries in bench-100k, as the owner sees
    them (real requests, captured): the execution time of each, and a miss when
    it does not read the index built for it."""
    firm = bench_firm_ensure("bench-100k")
    records = []
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
    ):
        http = HttpClient()
        http.force_login(firm.owner)
        for name, (page, expected) in PLANS.items():
            path = f"/o/{firm.organization.slug}/{page}"
            http.get(path)
            with CaptureQueriesContext(connection) as captured:
                http.get(path)
            sqls = [
                q["sql"]
                for q in captured.captured_queries
                if '"workflows_task"' in q["sql"]
            ]
            for i, (sql, indexes) in enumerate(zip(sqls, expected, strict=False)):
                with tenant_context(firm.organization):
                    used, ms = query_plan(sql)
                missing = [name for name in indexes if name not in used]
                stdout.write(
                    f"  {name} query {i + 1}: {ms:.2f} ms,"
                    f" reads {', '.join(sorted(used))}"
                )
                record = {
                    "name": f"plan.{name}.query{i + 1}_ms",
                    "value": round(ms, 2),
                    "unit": "ms",
                    "dataset_size": firm.size or 100_000,
                }
                if missing:
                    record["missed"] = f"does not read {', '.join(missing)}"
                records.append(record)
    return records
