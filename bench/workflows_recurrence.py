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

Both wall-clock time and CPU time are measured: CPU time is this process's plus
that of its PostgreSQL backend (read from /proc, the server runs on this
machine). The machine is shared (two cores, other people's tests and benches):
wall-clock time swings by half from one run to the next while CPU time is what
the work costs, so the ratio is judged on CPU time when /proc can be read.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import owner_connect
from advisoros.tenancy.models import Organization
from bench.clients_seed import seed_clients
from bench.harness import bench_firm_ensure, register_measure
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


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds of the PostgreSQL backend `pid`, or None when /proc says nothing
    (a server on another machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _run(organization: Organization) -> tuple[float, float | None, int]:
    """Wall and CPU seconds for one month of work, rolled back afterwards."""
    with tenant_context(organization), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        db_before, cpu_before = _backend_cpu(pid), time.process_time()
        started = time.perf_counter()
        created = recurring_executions_create(organization=organization, today=RUN_DAY)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        db_after = _backend_cpu(pid)
        transaction.set_rollback(True)
    if db_before is None or db_after is None:
        return elapsed, None, created
    return elapsed, cpu + db_after - db_before, created


# What a rolled-back run leaves behind in tables the page benchmarks read too:
# tens of thousands of dead rows, statistics that count them (PostgreSQL's
# live-row estimate of workflows_task fell from 102,000 to 17,600 after a few
# runs), and index entries VACUUM removes without giving the space back
# (task_board_open grew from 4 to 41 MB, and the workload query left it for
# another index). The page benchmarks that followed chose worse plans.
_TOUCHED = (
    "workflows_workflowexecution",
    "workflows_task",
    "workflows_taskdependency",
    "workflows_notification",
    "audit_logentry",
)


def _tidy(stdout) -> None:
    """Rebuild the indexes of the tables the rolled-back runs wrote to, then
    VACUUM (ANALYZE) them, as the owner role (without its credentials the
    run is told so and goes on). A few seconds."""
    tables = [connection.ops.quote_name(t) for t in _TOUCHED]
    try:
        with owner_connect() as conn:
            for table in tables:
                conn.execute(f"REINDEX TABLE {table}")
            conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    except DatabaseError as exc:
        stdout.write(f"  could not tidy up after the runs ({exc}); autovacuum will")


@register_measure("recurrence")
def recurrence(*, stdout) -> list[dict]:
    best: dict[str, dict[int, float]] = {"wall": {}, "cpu": {}}
    for size in SIZES:
        organization = _firm(size, stdout)
        runs = []
        for _ in range(ROUNDS):
            elapsed, cpu, created = _run(organization)
            if created != size:
                raise RuntimeError(
                    f"{organization.slug}: {created} workflows made, {size} expected"
                )
            runs.append((elapsed, cpu))
        _tidy(stdout)
        best["wall"][size] = min(wall for wall, _ in runs)
        if all(cpu is not None for _, cpu in runs):
            best["cpu"][size] = min(cpu for _, cpu in runs)
        stdout.write(
            f"{size:>6} clients: a month of work in {best['wall'][size]:.2f} s "
            f"({1000 * best['wall'][size] / size:.2f} ms a client); runs "
            + ", ".join(
                f"{wall:.2f} s" + (f" ({cpu:.2f} s CPU)" if cpu is not None else "")
                for wall, cpu in runs
            )
        )
    small, large = SIZES
    records = []
    for clock, figures in best.items():
        if len(figures) < len(SIZES):
            continue  # no CPU figures: a database on another machine
        records += [
            {
                "name": f"recurrence.month_of_work_{clock}_s",
                "value": round(figures[size], 3),
                "unit": "s",
                "dataset_size": size,
            }
            for size in SIZES
        ]
        records += [
            {
                "name": f"recurrence.ms_per_client_{clock}",
                "value": round(1000 * figures[size] / size, 3),
                "unit": "ms",
                "dataset_size": size,
            }
            for size in SIZES
        ]
        ratio = figures[large] / figures[small]
        stdout.write(
            f"ratio {large:,} to {small:,} clients ({clock}): {ratio:.2f} (linear: 10)"
        )
        records.append(
            {
                "name": f"recurrence.ratio_10k_1k_{clock}",
                "value": round(ratio, 2),
                "unit": "x",
                "dataset_size": large,
            }
        )
    judged = [r for r in records if r["name"].startswith("recurrence.ratio")][-1]
    if judged["value"] > TARGET_RATIO:
        judged["missed"] = (
            f"10k/1k ratio {judged['value']:.2f} above {TARGET_RATIO:g}: slower "
            "than linear"
        )
    return records
