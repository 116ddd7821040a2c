"""Writes about workflows: start one from a template, pause, resume, cancel.

`execution_start` expands the template's steps into tasks in one transaction
with bulk inserts and a fixed number of queries whatever the number of steps:
the template's steps, their dependencies, the members the assignee rules may
choose (with their open-task load), the workflow row, the tasks, the task
dependencies. Recurrence calls it for thousands of clients at a time.

Assignee rules (docs/workflows.md, "Engine"):

- partner / manager / preparer / reviewer: the engagement's person in that
  slot; when the slot is empty, or there is no engagement, the client's own
  team (partner -> client's partner; manager -> client's manager; preparer ->
  client's assigned staff, then manager; reviewer -> client's manager, then
  partner). The first of them who is still an active (not read-only) member.
- a named person: only while an active, not read-only member; else nobody.
- a role: the active member with exactly that role who has the fewest open
  tasks in the firm (ties by name), counting the tasks this expansion gives out.
- unassigned: nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.services import log_created
from advisoros.tenancy.models import Membership, Role
from clients.models import Client, Engagement
from workflows.models import (
    OPEN_STATUSES,
    AssigneeRule,
    DueFrom,
    ExecutionStatus,
    Priority,
    RecurringSchedule,
    StepDependency,
    StepTemplate,
    Task,
    TaskDependency,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.services.tasks import notify, require_member

# Engagement slot -> the client's people to fall back on, in order.
SLOT_FALLBACKS = {
    AssigneeRule.PARTNER: ("partner",),
    AssigneeRule.MANAGER: ("manager",),
    AssigneeRule.PREPARER: ("staff", "manager"),
    AssigneeRule.REVIEWER: ("manager", "partner"),
}


@dataclass
class _Member:
    user_id: int
    role: str
    name: str
    load: int


def members_for(
    *, organization_id: int, user_ids: set[int], roles: set[str]
) -> dict[int, _Member]:
    """One query: the active members among `user_ids` or with one of `roles`, with
    their open tasks counted when roles are asked for (the load balancer)."""
    if not user_ids and not roles:
        return {}
    qs = Membership.objects.filter(
        organization_id=organization_id, is_active=True
    ).filter(Q(user_id__in=user_ids) | Q(role__in=roles))
    qs = qs.exclude(role=Role.READONLY)
    if roles:
        qs = qs.annotate(
            load=Count(
                "user__tasks",
                filter=Q(
                    user__tasks__organization_id=organization_id,
                    user__tasks__status__in=OPEN_STATUSES,
                ),
            )
        )
        rows = qs.values_list("user_id", "role", "user__name", "load")
    else:
        rows = (
            (user_id, role, name, 0)
            for user_id, role, name in qs.values_list("user_id", "role", "user__name")
        )
    return {row[0]: _Member(*row) for row in rows}


class Assigner:
    """Resolves each step's assignee rule for one workflow."""

    def __init__(
        self,
        *,
        organization_id: int,
        steps: list[StepTemplate],
        client: Client,
        engagement: Engagement | None,
    ):
        self.client = client
        self.engagement = engagement
        wanted: set[int] = set()
        for slot, fallbacks in SLOT_FALLBACKS.items():
            if engagement is not None and getattr(engagement, f"{slot}_id"):
                wanted.add(getattr(engagement, f"{slot}_id"))
            wanted.update(
                getattr(client, f"{f}_id")
                for f in fallbacks
                if getattr(client, f"{f}_id")
            )
        wanted.update(
            s.assignee_user_id
            for s in steps
            if s.assignee_rule == AssigneeRule.PERSON and s.assignee_user_id
        )
        roles = {
            s.assignee_role
            for s in steps
            if s.assignee_rule == AssigneeRule.ROLE and s.assignee_role
        }
        self.members = members_for(
            organization_id=organization_id, user_ids=wanted, roles=roles
        )

    @classmethod
    def for_firm(cls, *, organization_id: int) -> Assigner:
        """Every working member of the firm with their load, read once (one query)
        for many workflows: call `use()` before building each workflow's tasks.
        Role steps then spread over all of them."""
        assigner = cls.__new__(cls)
        assigner.members = members_for(
            organization_id=organization_id,
            user_ids=set(),
            roles={r for r in Role.values if r != Role.READONLY},
        )
        assigner.client = assigner.engagement = None
        return assigner

    def use(self, *, client: Client, engagement: Engagement | None) -> Assigner:
        self.client = client
        self.engagement = engagement
        return self

    def _first_member(self, *user_ids: int | None) -> int | None:
        for user_id in user_ids:
            if user_id is not None and user_id in self.members:
                return user_id
        return None

    def assignee_id(self, step: StepTemplate) -> int | None:
        rule = step.assignee_rule
        if rule in SLOT_FALLBACKS:
            candidates = []
            if self.engagement is not None:
                candidates.append(getattr(self.engagement, f"{rule}_id"))
            candidates += [
                getattr(self.client, f"{f}_id") for f in SLOT_FALLBACKS[rule]
            ]
            return self._first_member(*candidates)
        if rule == AssigneeRule.PERSON:
            return self._first_member(step.assignee_user_id)
        if rule == AssigneeRule.ROLE and step.assignee_role:
            pool = [m for m in self.members.values() if m.role == step.assignee_role]
            if not pool:
                return None
            chosen = min(pool, key=lambda m: (m.load, m.name, m.user_id))
            chosen.load += 1  # the next role step of this expansion sees it
            return chosen.user_id
        return None


# The first version's names (recurrence imported them).
_Assigner = Assigner
_members_for = members_for


def step_due_date(
    step: StepTemplate, *, start_date: date, due_date: date | None
) -> date | None:
    """The step's offset from the workflow's start or due date (no due date, none)."""
    base = start_date if step.due_from == DueFrom.START else due_date
    if base is None:
        return None
    return base + timedelta(days=step.due_offset_days)


def _check_start(
    *,
    template: WorkflowTemplate,
    client: Client,
    engagement: Engagement | None,
    start_date: date,
    due_date: date | None,
    recurring_schedule: RecurringSchedule | None,
) -> None:
    org_id = template.organization_id
    errors: dict[str, str] = {}
    if client.organization_id != org_id:
        errors["client"] = "Choose one of the firm's clients."
    if not template.is_active:
        errors["template"] = (
            f"The template “{template.name}” is archived: reactivate it to start "
            "workflows from it."
        )
    if engagement is not None and (
        engagement.organization_id != org_id or engagement.client_id != client.pk
    ):
        errors["engagement"] = "Choose one of this client's engagements."
    if recurring_schedule is not None and recurring_schedule.organization_id != org_id:
        errors["recurring_schedule"] = "Choose one of the firm's schedules."
    if start_date is None:
        errors["start_date"] = "Give the workflow a start date."
    elif due_date is not None and due_date < start_date:
        errors["due_date"] = "The due date cannot be before the start date."
    if errors:
        raise ValidationError(errors)


@dataclass
class TemplateShape:
    """A template's steps in order and the dependencies between them."""

    steps: list[StepTemplate]
    links: list[tuple[int, int]]  # (step_id, depends_on_id)

    @property
    def waiting(self) -> set[int]:
        return {step_id for step_id, _ in self.links}


def template_shape(template: WorkflowTemplate) -> TemplateShape:
    """Two queries; callers starting many workflows read it once per template."""
    org_id = template.organization_id
    return TemplateShape(
        # Query: the template's steps, in order.
        steps=list(
            StepTemplate.objects.filter(
                organization_id=org_id, template=template
            ).order_by("position", "id")
        ),
        # Query: the dependencies between them.
        links=list(
            StepDependency.objects.filter(
                organization_id=org_id, step__template=template
            ).values_list("step_id", "depends_on_id")
        ),
    )


def task_priority(engagement: Engagement | None) -> str:
    """The tasks take the engagement's priority (normal without one)."""
    priority = engagement.priority if engagement is not None else Priority.NORMAL
    return priority if priority in Priority.values else Priority.NORMAL


def execution_tasks_build(
    *, execution: WorkflowExecution, shape: TemplateShape, assigner: Assigner
) -> tuple[list[Task], list[tuple[Task, Task]]]:
    """The workflow's tasks (not saved), one per step, and the (task, depends on)
    pairs mirroring the steps' dependencies. `assigner` must be set up for the
    workflow's client and engagement. Recurrence builds many workflows' tasks
    with it and inserts them together."""
    waiting = shape.waiting
    priority = task_priority(execution.engagement)
    tasks = [
        Task(
            organization_id=execution.organization_id,
            execution=execution,
            client=execution.client,
            step_template=step,
            step_index=index,
            title=step.title,
            instructions=step.instructions,
            assignee_id=assigner.assignee_id(step),
            due_date=step_due_date(
                step, start_date=execution.start_date, due_date=execution.due_date
            ),
            priority=priority,
            status=TaskStatus.PENDING if step.pk in waiting else TaskStatus.READY,
            checklist=[{"text": str(item), "done": False} for item in step.checklist],
            budgeted_minutes=step.budgeted_minutes,
            needs_approval=step.needs_approval,
            completes_on=step.completes_on,
        )
        for index, step in enumerate(shape.steps)
    ]
    by_step = {task.step_template_id: task for task in tasks}
    pairs = [(by_step[a], by_step[b]) for a, b in shape.links]
    return tasks, pairs


def task_dependencies_insert(pairs: list[tuple[Task, Task]]) -> None:
    """Insert the dependency rows of saved tasks (one bulk insert)."""
    if pairs:
        TaskDependency.objects.bulk_create(
            (
                TaskDependency(
                    organization_id=task.organization_id,
                    task_id=task.pk,
                    depends_on_id=depends_on.pk,
                )
                for task, depends_on in pairs
            ),
            batch_size=5000,
        )


@transaction.atomic
def execution_start(
    *,
    template: WorkflowTemplate,
    client: Client,
    start_date: date,
    due_date: date | None = None,
    engagement: Engagement | None = None,
    name: str = "",
    created_by: User | None = None,
    recurring_schedule: RecurringSchedule | None = None,
    period_start: date | None = None,
) -> WorkflowExecution:
    """Start `template` for `client`: a workflow with one task per step.

    Tasks without prerequisites are READY, the others PENDING. Raises
    ValidationError (by field) for another firm's client or engagement, an
    archived or empty template, or dates in the wrong order."""
    _check_start(
        template=template,
        client=client,
        engagement=engagement,
        start_date=start_date,
        due_date=due_date,
        recurring_schedule=recurring_schedule,
    )
    org_id = template.organization_id
    shape = template_shape(template)  # Queries: steps, dependencies.
    if not shape.steps:
        raise ValidationError(
            {"template": f"The template “{template.name}” has no steps yet."}
        )
    # Query: the members the assignee rules may choose, with their load.
    assigner = Assigner(
        organization_id=org_id, steps=shape.steps, client=client, engagement=engagement
    )
    name = (name or "").strip() or f"{template.name} – {client.display_name}"
    # Query: the workflow (plus the change log's entry).
    execution = WorkflowExecution.objects.create(
        organization_id=org_id,
        template=template,
        template_version=template.version,
        name=name[:200],
        client=client,
        engagement=engagement,
        start_date=start_date,
        due_date=due_date,
        tasks_total=len(shape.steps),
        recurring_schedule=recurring_schedule,
        period_start=period_start,
        created_by=created_by,
    )
    tasks, pairs = execution_tasks_build(
        execution=execution, shape=shape, assigner=assigner
    )
    # Query: the tasks (PostgreSQL returns their keys).
    Task.objects.bulk_create(tasks)
    # Query: the task dependencies, mirroring the steps'.
    task_dependencies_insert(pairs)
    # Query: the tasks' "created" entries in the change log, as saves would write.
    log_created(tasks, actor=created_by)
    notify("ready", [t for t in tasks if t.status == TaskStatus.READY])
    return execution


# Pause, resume, cancel -------------------------------------------------------------


def _locked(execution: WorkflowExecution) -> WorkflowExecution:
    return WorkflowExecution.objects.select_for_update().get(
        organization_id=execution.organization_id, pk=execution.pk
    )


def _copy_state(target: WorkflowExecution, source: WorkflowExecution) -> None:
    for field in ("status", "completed_at", "tasks_done", "tasks_total", "updated_at"):
        setattr(target, field, getattr(source, field))


@transaction.atomic
def execution_pause(*, execution: WorkflowExecution, by: User | None) -> None:
    """Hold an active workflow: its tasks cannot move until it is resumed."""
    if by is not None:
        require_member(execution.organization_id, by, Role.STAFF)
    locked = _locked(execution)
    if locked.status != ExecutionStatus.ACTIVE:
        raise ValidationError(
            f"“{locked.name}” is {locked.get_status_display().lower()}; only an "
            "active workflow can be paused."
        )
    locked.status = ExecutionStatus.PAUSED
    locked.save(update_fields=["status", "updated_at"])
    _copy_state(execution, locked)


@transaction.atomic
def execution_resume(*, execution: WorkflowExecution, by: User | None) -> None:
    if by is not None:
        require_member(execution.organization_id, by, Role.STAFF)
    locked = _locked(execution)
    if locked.status != ExecutionStatus.PAUSED:
        raise ValidationError(
            f"“{locked.name}” is not paused; there is nothing to resume."
        )
    # Defensive: tasks cannot move while paused, so this is a workflow whose
    # counters already met (e.g. paused with only cancelled tasks left).
    if locked.tasks_done >= locked.tasks_total:
        locked.status = ExecutionStatus.COMPLETED
        locked.completed_at = timezone.now()
    else:
        locked.status = ExecutionStatus.ACTIVE
    locked.save(update_fields=["status", "completed_at", "updated_at"])
    _copy_state(execution, locked)


@transaction.atomic
def execution_cancel(*, execution: WorkflowExecution, by: User | None) -> None:
    """Stop a workflow for good (managers and above): its open tasks are cancelled;
    its counters stay as they were, so its progress shows how far it got."""
    if by is not None:
        require_member(execution.organization_id, by, Role.MANAGER)
    locked = _locked(execution)
    if locked.status in (ExecutionStatus.COMPLETED, ExecutionStatus.CANCELLED):
        raise ValidationError(
            f"“{locked.name}” is already {locked.get_status_display().lower()}."
        )
    now = timezone.now()
    Task.objects.filter(
        organization_id=locked.organization_id,
        execution=locked,
        status__in=OPEN_STATUSES,
    ).update(status=TaskStatus.CANCELLED, updated_at=now)
    locked.status = ExecutionStatus.CANCELLED
    locked.completed_at = now
    locked.save(update_fields=["status", "completed_at", "updated_at"])
    _copy_state(execution, locked)
