"""The workflows' part of `make bench` (see advisoros/bench.py): the data and the pages.

Tasks as many as the firm has clients: 1,000 in bench-1k, 100,000 in
bench-100k (workflows/bench_seed.py says how they are spread). The pages:
the owner's My work, the team board, and the workflow list.
"""

from __future__ import annotations

from django.urls import reverse

from advisoros.bench import BenchFirm, register_bench_seeder, register_scenario
from workflows.bench_seed import seed_tasks


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    result = seed_tasks(organization=firm.organization, tasks=firm.size, stdout=stdout)
    if result.tasks:
        stdout.write(
            f"{firm.organization.slug}: {result.tasks:,} tasks in"
            f" {result.executions:,} workflows seeded in {result.seconds:.1f} s"
        )


@register_scenario("my_work")
def my_work(firm: BenchFirm) -> str:
    return reverse("workflows:my_work", args=[firm.organization.slug])


@register_scenario("board")
def board(firm: BenchFirm) -> str:
    return reverse("workflows:board", args=[firm.organization.slug])


@register_scenario("workflow_list")
def workflow_list(firm: BenchFirm) -> str:
    return reverse("workflows:execution_list", args=[firm.organization.slug])
