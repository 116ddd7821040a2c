"""Demo workflows for "Demo CPA" (registered with seed_demo, after the clients').

The firm copies starter templates (1040, 1120-S, monthly close, onboarding) and
runs them the way the app does: `execution_start` expands them, and tasks move
through `task_transition` by the people they are assigned to (an approval by
someone else), so counters, readiness, notifications and the audit trail are
what they would be after real work. What it leaves:

- this season's 1040s at every stage: some just started, some half done with a
  task in progress or waiting for review, one completed, and two started two
  months ago that are now overdue;
- S corporation returns part done;
- a recurring monthly close for two bookkeeping clients (a RecurringSchedule
  from the first of last month; its executions made by the recurrence service,
  last month's mostly done);
- an onboarding for the prospect, and an ad-hoc task for the staff member.

Dates are relative to the firm's today, so some work is always overdue. It
does nothing when the firm already has workflows (seed_demo may run again).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Organization, Role
from clients.demo import ADMIN, DEMO_SLUG, MANAGER, OWNER, STAFF
from clients.models import Client, ClientStatus, Engagement, EngagementType, EntityType
from workflows.models import (
    RecurringSchedule,
    Task,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.services.executions import execution_start
from workflows.services.tasks import member_role, task_create_adhoc, task_transition
from workflows.starter_library import starter_copy

STARTERS = ("1040", "1120s", "monthly_close", "onboarding")
# 1040s: (days since the start, how many tasks are done, is the last one started)
RETURNS = (
    (2, 0, False),
    (9, 1, True),
    (16, 2, False),
    (24, 3, True),
    (30, 4, False),
    (38, 5, True),
    (65, 2, False),  # overdue
    (70, 3, True),  # overdue
    (90, 99, False),  # completed
)
TAX_SPAN = 75  # days from a return's start to its due date


@register_demo_seeder
def seed_demo_workflows(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    """Runs inside the firm's context; does nothing when the firm has workflows."""
    if organization.slug != DEMO_SLUG:
        return
    if WorkflowExecution.objects.filter(organization=organization).exists():
        return
    with transaction.atomic():
        counts = _seed(organization, people)
    if stdout is not None:
        stdout.write(
            "  Demo workflows: {workflows} workflows ({recurring} recurring),"
            " {tasks} tasks".format(**counts)
        )


def _seed(organization: Organization, people: dict[str, User]) -> dict[str, int]:
    today = firm_today(organization)
    owner = people[OWNER]
    templates = _templates(organization, owner)
    clients = list(
        Client.objects.filter(organization=organization)
        .exclude(status=ClientStatus.ARCHIVED)
        .order_by("client_code")
    )
    individuals = [
        c
        for c in clients
        if c.entity_type == EntityType.INDIVIDUAL and c.status == ClientStatus.ACTIVE
    ]
    s_corps = [c for c in clients if c.entity_type == EntityType.S_CORP]
    businesses = [
        c
        for c in clients
        if c.entity_type in (EntityType.LLC, EntityType.SOLE_PROPRIETORSHIP)
        and c.status == ClientStatus.ACTIVE
    ]
    prospects = [c for c in clients if c.status == ClientStatus.PROSPECT]

    for client, (age, done, started) in zip(individuals, RETURNS, strict=False):
        _return(templates["1040"], client, today, age, done, started, people)
    for client, (age, done, started) in zip(
        s_corps, ((12, 1, True), (33, 4, False), (68, 3, True)), strict=False
    ):
        _return(templates["1120s"], client, today, age, done, started, people)
    recurring = _monthly_closes(
        templates["monthly_close"], businesses[:2], today, people
    )
    for client in prospects[:1]:
        execution = execution_start(
            template=templates["onboarding"],
            client=client,
            start_date=today - timedelta(days=3),
            due_date=today + timedelta(days=27),
            created_by=people[ADMIN],
        )
        _advance(execution, 1, started=True, people=people)
    task_create_adhoc(
        organization=organization,
        title="Update the firm's engagement letter template for next season",
        assignee=people[STAFF],
        due_date=today + timedelta(days=5),
        priority="high",
        by=people[MANAGER],
    )
    return {
        "workflows": WorkflowExecution.objects.filter(
            organization=organization
        ).count(),
        "recurring": recurring,
        "tasks": Task.objects.filter(organization=organization).count(),
    }


def _templates(organization: Organization, owner: User) -> dict[str, WorkflowTemplate]:
    have = {
        t.starter_key: t
        for t in WorkflowTemplate.objects.filter(
            organization=organization, starter_key__in=STARTERS
        )
    }
    return {
        key: have.get(key) or starter_copy(organization=organization, key=key, by=owner)
        for key in STARTERS
    }


def _return(template, client, today: date, age: int, done: int, started: bool, people):
    engagement = (
        Engagement.objects.filter(
            organization=client.organization,
            client=client,
            engagement_type__in=(
                EngagementType.INDIVIDUAL_TAX,
                EngagementType.BUSINESS_TAX,
            ),
        )
        .order_by("-tax_year", "pk")
        .first()
    )
    start = today - timedelta(days=age)
    execution = execution_start(
        template=template,
        client=client,
        engagement=engagement,
        start_date=start,
        due_date=start + timedelta(days=TAX_SPAN),
        name=f"{template.name} – {client.display_name}",
        created_by=people[OWNER],
    )
    _advance(execution, done, started=started, people=people)


def _monthly_closes(template, clients: list[Client], today: date, people) -> int:
    """A monthly close from the first of last month for each client: the
    recurrence service makes the periods whose time has come."""
    from workflows.services.recurrence import recurring_executions_create

    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    for client in clients:
        RecurringSchedule.objects.create(
            organization=client.organization,
            client=client,
            template=template,
            frequency=RecurringSchedule.Frequency.MONTHLY,
            starts_on=last_month,
            created_by=people[MANAGER],
        )
    recurring_executions_create(organization=template.organization, today=today)
    for execution in WorkflowExecution.objects.filter(
        organization=template.organization, recurring_schedule__isnull=False
    ).order_by("period_start"):
        behind = execution.period_start < first
        _advance(execution, 6 if behind else 1, started=not behind, people=people)
    return len(clients)


def _advance(execution, done: int, *, started: bool, people) -> None:
    """Complete the first `done` tasks as people would (the one who does it, an
    approver for reviewed steps), then start the next one."""
    for _ in range(done):
        task = _next_ready(execution)
        if task is None:
            return
        doer = task.assignee or people[STAFF]
        if task.needs_approval:
            task = task_transition(task=task, to_status=TaskStatus.IN_REVIEW, by=doer)
            task_transition(
                task=task, to_status=TaskStatus.COMPLETED, by=_approver(task, people)
            )
        else:
            task_transition(task=task, to_status=TaskStatus.COMPLETED, by=doer)
    if started:
        task = _next_ready(execution)
        if task is not None:
            task_transition(
                task=task,
                to_status=TaskStatus.IN_PROGRESS,
                by=task.assignee or people[STAFF],
            )


def _next_ready(execution) -> Task | None:
    return (
        Task.objects.filter(
            organization=execution.organization,
            execution=execution,
            status=TaskStatus.READY,
        )
        .select_related("assignee")
        .order_by("step_index", "id")
        .first()
    )


def _approver(task: Task, people) -> User:
    """A manager or above who is not the task's assignee."""
    for email in (OWNER, ADMIN, MANAGER):
        person = people[email]
        if person.pk != task.assignee_id and member_role(
            task.organization_id, person
        ) in (Role.OWNER, Role.ADMIN, Role.MANAGER):
            return person
    return people[OWNER]
