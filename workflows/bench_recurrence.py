"""The recurrence job's speed: a month of work for 1,000 and for 10,000 clients.

Two firms of their own (`bench-recur-1k`, `bench-recur-10k`), seeded once: the
clients (through the clients' bench seeder, without contacts, engagements or
notes), twenty members, an eight-step monthly-close template with dependencies
and assignee rules, and one monthly schedule per client. The measure runs
`recurring_executions_create` for the day the next month's workflows are due to
be created: one workflow of eight tasks (seven dependencies, a "ready" notice)
per client. Each run is rolled back afterwards, so every round creates the same
month from scratch (the commit itself is not timed). The best of `ROUNDS` runs is
reported with the time per client and the 10k/1k ratio; the target is linear or
better, so a ratio above `TARGET_RATIO` (10x the clients) is a miss.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.db import transaction

from advisoros.bench import bench_firm_ensure, register_measure
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.bench_seed import seed_clients
from clients.models import Client, ClientStatus
from workflows.models import (
    RecurringSchedule,
    StepDependency,
    StepTemplate,
    WorkflowTemplate,
)
from workflows.services.recurrence import recurring_executions_create

SIZES = (1_000, 10_000)
ROUNDS = 2
TARGET_RATIO = 11.0
TEMPLATE = "Monthly close (bench)"
# A period far ahead, so no real run of the job ever makes it.
FIRST_PERIOD = date(2031, 1, 1)
CREATE_DAYS_AHEAD = 14
RUN_DAY = FIRST_PERIOD - timedelta(days=CREATE_DAYS_AHEAD)
# (title, assignee rule, role, due offset from start, budget, depends on)
STEPS = [
    ("Collect bank statements", "preparer", "", 3, 30, []),
    ("Reconcile bank accounts", "preparer", "", 7, 90, [0]),
    ("Reconcile credit cards", "preparer", "", 7, 60, [0]),
    ("Categorise transactions", "role", "staff", 8, 120, [1, 2]),
    ("Accruals and prepaids", "manager", "", 10, 45, [3]),
    ("Review the close", "reviewer", "", 12, 30, [4]),
    ("Send financial statements", "partner", "", 14, 15, [5]),
    ("Archive the month", "unassigned", "", 15, 10, [6]),
]


def _template(organization: Organization) -> WorkflowTemplate:
    template = WorkflowTemplate.objects.filter(
        organization=organization, name=TEMPLATE
    ).first()
    if template is not None:
        return template
    template = WorkflowTemplate.objects.create(
        organization=organization, name=TEMPLATE, category="bookkeeping"
    )
    steps = [
        StepTemplate.objects.create(
            organization=organization,
            template=template,
            position=i,
            title=title,
            assignee_rule=rule,
            assignee_role=role,
            due_offset_days=offset,
            budgeted_minutes=budget,
        )
        for i, (title, rule, role, offset, budget, _) in enumerate(STEPS)
    ]
    StepDependency.objects.bulk_create(
        StepDependency(organization=organization, step=steps[i], depends_on=steps[j])
        for i, (*_, after) in enumerate(STEPS)
        for j in after
    )
    return template


def _schedules(organization: Organization, template: WorkflowTemplate) -> int:
    """One monthly schedule per client that has none (idempotent top-up)."""
    scheduled = RecurringSchedule.objects.filter(
        organization=organization, template=template
    ).values("client_id")
    missing = Client.objects.filter(organization=organization).exclude(pk__in=scheduled)
    made = RecurringSchedule.objects.bulk_create(
        (
            RecurringSchedule(
                organization=organization,
                client_id=client_id,
                template=template,
                frequency=RecurringSchedule.Frequency.MONTHLY,
                starts_on=FIRST_PERIOD,
                create_days_ahead=CREATE_DAYS_AHEAD,
                due_days_after_period=15,
            )
            for client_id in missing.values_list("pk", flat=True).iterator()
        ),
        batch_size=5000,
    )
    return len(made)


def _firm(size: int, stdout) -> Organization:
    firm = bench_firm_ensure(f"bench-recur-{size // 1000}k", members=20)
    organization = firm.organization
    with tenant_context(organization):
        seed_clients(
            organization=organization,
            clients=size,
            contacts_per_client=0,
            engagements_per_client=0,
            notes_per_client=0,
            stdout=stdout,
        )
        # Every client active, so each one gets its month (the job skips
        # inactive and archived clients). These firms serve this measure only.
        Client.objects.filter(organization=organization).exclude(
            status=ClientStatus.ACTIVE
        ).update(status=ClientStatus.ACTIVE)
        template = _template(organization)
        made = _schedules(organization, template)
        if made:
            stdout.write(f"{organization.slug}: {made} schedules added")
    return organization


def _run(organization: Organization) -> tuple[float, int]:
    """Seconds for one month of work, rolled back afterwards."""
    with tenant_context(organization), transaction.atomic():
        started = time.perf_counter()
        created = recurring_executions_create(organization=organization, today=RUN_DAY)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, created


@register_measure("recurrence")
def recurrence(*, stdout) -> list[dict]:
    best: dict[int, float] = {}
    for size in SIZES:
        organization = _firm(size, stdout)
        runs = []
        for _ in range(ROUNDS):
            elapsed, created = _run(organization)
            if created != size:
                raise RuntimeError(
                    f"{organization.slug}: {created} workflows made, {size} expected"
                )
            runs.append(elapsed)
        best[size] = min(runs)
        stdout.write(
            f"{size:>6} clients: {best[size]:.2f} s for a month of work "
            f"({1000 * best[size] / size:.2f} ms a client; runs "
            + ", ".join(f"{r:.2f} s" for r in runs)
            + ")"
        )
    small, large = SIZES
    ratio = best[large] / best[small]
    stdout.write(f"ratio {large:,} to {small:,} clients: {ratio:.2f} (linear: 10)")
    records = [
        {
            "name": "recurrence.month_of_work_s",
            "value": round(best[size], 3),
            "unit": "s",
            "dataset_size": size,
        }
        for size in SIZES
    ] + [
        {
            "name": "recurrence.ms_per_client",
            "value": round(1000 * best[size] / size, 3),
            "unit": "ms",
            "dataset_size": size,
        }
        for size in SIZES
    ]
    ratio_record = {
        "name": "recurrence.ratio_10k_1k",
        "value": round(ratio, 2),
        "unit": "x",
        "dataset_size": large,
    }
    if ratio > TARGET_RATIO:
        ratio_record["missed"] = (
            f"10k/1k ratio {ratio:.2f} above {TARGET_RATIO:g}: slower than linear"
        )
    records.append(ratio_record)
    return records
