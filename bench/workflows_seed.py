"""Bulk workflows and tasks for the benchmark: a big firm's year of work, fast.

`seed_tasks` tops a bench firm up to a number of tasks (100,000 in bench-100k,
1,000 in bench-1k) spread as a working firm's would be:

- workflows from the starter library (the firm's own copies: 1040s, business
  returns, monthly closes, payroll quarters, onboarding, year-end), each for a
  client of the firm, started over the last eleven months and the next one;
- each workflow's tasks expanded as the engine does (its steps' due offsets,
  budgeted minutes, approvals, dependencies between steps);
- progress that matches the calendar: old work mostly completed, current work
  part done (the first steps completed, the next ready, in progress or in
  review, the rest waiting), a few workflows paused or cancelled, some late;
- assignees spread over the firm's working members, the owner leading a fifth
  of the workflows (the bench measures My work as the owner: OWNER_SHARE).

Rows go in through `bench.harness.copy_rows` (COPY, then INSERT ... SELECT
under row-level security) in chunks of about CHUNK tasks, each in its own
transaction, inside the firm's tenant_context. The audit log is skipped: these
rows are nobody's changes. A seeded random generator makes every run build
the same firm.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Membership, Organization, Role
from bench.harness import copy_rows, reserve_ids
from clients.models import Client
from workflows.models import (
    ExecutionStatus,
    StepDependency,
    StepTemplate,
    Task,
    TaskDependency,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.services.executions import step_due_date
from workflows.starter_library import starter_copy

CHUNK = 10_000
# The starter templates a bench firm runs, with how often it starts each.
MIX = {
    "1040": 30,
    "1120s": 8,
    "1120": 4,
    "1065": 5,
    "monthly_close": 30,
    "quarterly_estimates": 8,
    "941": 8,
    "onboarding": 3,
    "year_end": 4,
}
# How long a workflow of each category runs from start to due date.
SPAN_DAYS = {
    "tax": 75,
    "bookkeeping": 20,
    "payroll": 30,
    "onboarding": 30,
    "year_end": 45,
}
# The owner leads this share of the workflows: the bench measures My work as
# the owner, and in bench-1k an even share (1 in 21) would leave the owner a
# third of a page; with it both firms show a full first page, so the 100k/1k
# ratio compares like with like (as the client list's full pages do).
OWNER_SHARE = 0.2
PRIORITIES = (("normal", 70), ("high", 15), ("low", 10), ("urgent", 5))

EXECUTION_COLUMNS = (
    "id",
    "organization_id",
    "created_at",
    "template_id",
    "template_version",
    "name",
    "client_id",
    "status",
    "start_date",
    "due_date",
    "tasks_total",
    "tasks_done",
    "completed_at",
    "created_by_id",
)
TASK_COLUMNS = (
    "id",
    "organization_id",
    "created_at",
    "execution_id",
    "client_id",
    "step_template_id",
    "step_index",
    "title",
    "assignee_id",
    "due_date",
    "priority",
    "status",
    "budgeted_minutes",
    "actual_minutes",
    "needs_approval",
    "completes_on",
    "started_at",
    "completed_at",
    "completed_by_id",
)
DEPENDENCY_COLUMNS = ("organization_id", "created_at", "task_id", "depends_on_id")


@dataclass
class SeedResult:
    executions: int = 0
    tasks: int = 0
    seconds: float = 0.0


@dataclass
class _Template:
    pk: int
    name: str
    span: int
    steps: list[StepTemplate]
    depends: dict[int, list[int]]  # step position -> positions it waits for


def _templates(organization: Organization, owner_id: int | None) -> list[_Template]:
    """The firm's copies of the starter templates (made on the first run)."""
    have = {
        t.starter_key: t
        for t in WorkflowTemplate.objects.filter(
            organization=organization, starter_key__in=MIX
        )
    }
    owner = None
    if owner_id is not None:
        from advisoros.accounts.models import User

        owner = User.objects.get(pk=owner_id)
    for key in MIX:
        if key not in have:
            have[key] = starter_copy(organization=organization, key=key, by=owner)
    steps: dict[int, list[StepTemplate]] = {}
    for step in StepTemplate.objects.filter(
        organization=organization, template__in=have.values()
    ).order_by("position", "id"):
        steps.setdefault(step.template_id, []).append(step)
    position = {s.pk: s.position for ss in steps.values() for s in ss}
    depends: dict[int, dict[int, list[int]]] = {t.pk: {} for t in have.values()}
    for dep in StepDependency.objects.filter(
        organization=organization, step__template__in=have.values()
    ).select_related("step"):
        depends[dep.step.template_id].setdefault(position[dep.step_id], []).append(
            position[dep.depends_on_id]
        )
    return [
        _Template(
            pk=have[key].pk,
            name=have[key].name,
            span=SPAN_DAYS.get(have[key].category, 45),
            steps=steps.get(have[key].pk, []),
            depends=depends[have[key].pk],
        )
        for key in MIX
    ]


@dataclass
class _Firm:
    organization: Organization
    rng: random.Random
    today: date
    now: datetime
    templates: list[_Template]
    weights: list[int]
    clients: list[int]
    people: list[int]
    owner_id: int | None


def _firm(organization: Organization, rng: random.Random) -> _Firm:
    members = list(
        Membership.objects.filter(organization=organization, is_active=True)
        .exclude(role=Role.READONLY)
        .values_list("user_id", "role")
    )
    if not members:
        raise ValueError(f"{organization.slug} has no members to give tasks to.")
    owner_id = next((u for u, r in members if r == Role.OWNER), None)
    clients = list(
        Client.objects.filter(organization=organization)
        .exclude(status="archived")
        .values_list("pk", flat=True)
    )
    if not clients:
        raise ValueError(f"{organization.slug} has no clients to do work for.")
    templates = _templates(organization, owner_id)
    return _Firm(
        organization=organization,
        rng=rng,
        today=firm_today(organization),
        now=timezone.now(),
        templates=templates,
        weights=[MIX[k] for k in MIX],
        clients=clients,
        people=[u for u, _ in members],
        owner_id=owner_id,
    )


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in the working hours of `day` (UTC, good enough for a bench)."""
    return datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(13, 22),
        rng.randint(0, 59),
        tzinfo=UTC,
    )


def _workflow(f: _Firm, execution_id: int, task_ids: list[int], template: _Template):
    """One workflow's rows: (execution row, task rows, dependency rows)."""
    r, today = f.rng, f.today
    org_id = f.organization.pk
    client_id = r.choice(f.clients)
    start = today + timedelta(days=r.randint(-330, 30))
    due = start + timedelta(days=template.span)
    elapsed = (today - start).days / template.span
    progress = elapsed + r.uniform(-0.35, 0.2)
    n = len(template.steps)
    status = ExecutionStatus.ACTIVE
    roll = r.random()
    if progress >= 1 and roll < 0.9:
        done = n
        status = ExecutionStatus.COMPLETED
    else:
        done = max(0, min(n - 1, int(progress * n)))
        if roll < 0.03:
            status = ExecutionStatus.PAUSED
        elif roll < 0.05:
            status = ExecutionStatus.CANCELLED
    created = _at(start - timedelta(days=r.randint(0, 10)), r)
    created = min(created, f.now)
    # Each person looks after the whole workflow, with a second pair of hands.
    lead, helper = r.choice(f.people), r.choice(f.people)
    if f.owner_id is not None and r.random() < OWNER_SHARE:
        lead = f.owner_id
    priority = r.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
    completed_ids: set[int] = set()
    tasks = []
    last_done = None
    for index, (step, task_id) in enumerate(zip(template.steps, task_ids, strict=True)):
        task_due = step_due_date(step, start_date=start, due_date=due)
        waits = template.depends.get(step.position, [])
        if index < done:
            task_status = TaskStatus.COMPLETED
        elif status == ExecutionStatus.CANCELLED:
            task_status = TaskStatus.CANCELLED
        elif all(task_ids[p] in completed_ids for p in waits):
            task_status = r.choices(
                [TaskStatus.READY, TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW],
                [55, 35, 10 if step.needs_approval else 0],
            )[0]
        else:
            task_status = TaskStatus.PENDING
        started = finished = finisher = None
        assignee = lead if r.random() < 0.7 else helper
        if r.random() < 0.04:
            assignee = None  # to be assigned
        if task_status == TaskStatus.COMPLETED:
            completed_ids.add(task_id)
            day = (task_due or due) + timedelta(days=r.randint(-6, 4))
            finished = min(_at(min(day, today), r), f.now)
            started = finished - timedelta(hours=r.randint(1, 72))
            finisher = assignee or lead
            last_done = max(last_done or finished, finished)
        elif task_status in (TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW):
            started = min(_at(today - timedelta(days=r.randint(0, 12)), r), f.now)
        minutes = step.budgeted_minutes
        tasks.append(
            (
                task_id,
                org_id,
                created,
                execution_id,
                client_id,
                step.pk,
                step.position,
                step.title,
                assignee,
                task_due,
                priority if r.random() < 0.8 else "normal",
                task_status,
                minutes,
                int(minutes * r.uniform(0.6, 1.4)) if finished else 0,
                step.needs_approval,
                step.completes_on,
                started,
                finished,
                finisher,
            )
        )
    dependencies = [
        (org_id, created, task_ids[step.position], task_ids[before])
        for step in template.steps
        for before in template.depends.get(step.position, [])
    ]
    execution = (
        execution_id,
        org_id,
        created,
        template.pk,
        1,
        f"{template.name} – {start:%b %Y}",
        client_id,
        status,
        start,
        due,
        n,
        done,
        last_done if status == ExecutionStatus.COMPLETED else None,
        f.owner_id if r.random() < 0.3 else lead,
    )
    return execution, tasks, dependencies


def _chunk(f: _Firm, count: int) -> tuple[list, list, list]:
    """About `count` tasks' worth of whole workflows (the last one may be cut
    short by the caller's total)."""
    r = f.rng
    plans = []
    planned = 0
    while planned < count:
        template = r.choices(f.templates, f.weights)[0]
        if not template.steps:
            continue
        take = min(len(template.steps), count - planned)
        plans.append((template, take))
        planned += take
    execution_ids = reserve_ids(WorkflowExecution, len(plans))
    task_ids = iter(reserve_ids(Task, planned))
    executions, tasks, dependencies = [], [], []
    for (template, take), execution_id in zip(plans, execution_ids, strict=True):
        if take < len(template.steps):  # the total's remainder: a shorter workflow
            template = _Template(
                pk=template.pk,
                name=template.name,
                span=template.span,
                steps=template.steps[:take],
                depends={
                    k: [p for p in v if p < take]
                    for k, v in template.depends.items()
                    if k < take
                },
            )
        ids = [next(task_ids) for _ in range(take)]
        execution, rows, links = _workflow(f, execution_id, ids, template)
        executions.append(execution)
        tasks.extend(rows)
        dependencies.extend(links)
    return executions, tasks, dependencies


def seed_tasks(*, organization: Organization, tasks: int, stdout=None) -> SeedResult:
    """Top the firm up to `tasks` tasks (adds none when it has as many).

    Call inside tenant_context(organization)."""
    started = time.perf_counter()
    result = SeedResult()
    existing = Task.objects.filter(organization=organization).count()
    missing = tasks - existing
    if missing <= 0:
        return result
    rng = random.Random(f"{organization.slug}:tasks:{existing}")  # noqa: S311
    firm = _firm(organization, rng)
    for begin in range(0, missing, CHUNK):
        size = min(CHUNK, missing - begin)
        executions, task_rows, dependencies = _chunk(firm, size)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            result.executions += copy_rows(
                WorkflowExecution, EXECUTION_COLUMNS, executions
            )
            result.tasks += copy_rows(Task, TASK_COLUMNS, task_rows)
            copy_rows(TaskDependency, DEPENDENCY_COLUMNS, dependencies)
        if stdout is not None:
            stdout.write(
                f"  {organization.slug}: {existing + result.tasks:,} tasks"
                f" ({time.perf_counter() - started:.1f} s)"
            )
    _refresh_statistics()
    result.seconds = time.perf_counter() - started
    return result


def _refresh_statistics() -> None:
    """Through the owner (advisoros.tenancy.dbroles.statistics_refresh): the app
    role owns no table, and its own ANALYZE of one is skipped with a warning, so
    the tasks had no statistics and the planner took 100,000 of them for one."""
    statistics_refresh(
        [m._meta.db_table for m in (WorkflowExecution, Task, TaskDependency)],
        vacuum=True,
    )
