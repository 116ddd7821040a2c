"""Writes about tasks: the one place a task's status changes, ad-hoc tasks, assignment.

The rules (docs/workflows.md, "Engine"):

- PENDING -> READY is the engine's move alone: a task becomes ready when every
  task it depends on is closed (completed, skipped, or cancelled on its own).
- READY -> IN_PROGRESS -> COMPLETED, or READY -> COMPLETED directly; a task that
  needs approval goes READY/IN_PROGRESS -> IN_REVIEW -> COMPLETED, and the last
  move is an approval: by someone other than the assignee, who is a manager or
  above, or the engagement's reviewer. IN_REVIEW -> IN_PROGRESS sends it back.
- Skip, cancel and reopen are "sensitive": managers and above, or the task's
  assignee when the task needs no approval (so nobody skips their own review).
  Cancelled is final. Reopening a completed task puts it back in progress; a
  skipped one becomes ready again (pending if it still waits for others). The
  dependents that had become ready but were not started return to pending.
- A paused or cancelled workflow refuses every move of its tasks.
- Every move locks the workflow's row first, so two people completing two tasks
  at once keep `tasks_done` right and both see each other's work.
- Read-only members never move a task. `by=None` is the system (automation): it
  may complete any open task, but a task that needs approval goes to review,
  never straight to completed.

Counters: `tasks_done` counts completed and skipped tasks; `tasks_total` counts
the workflow's tasks less those cancelled one by one. The workflow completes
when the two meet. Cancelling the whole workflow freezes both, so its progress
bar keeps showing how far it got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization, Role
from clients.models import Client, choice_label
from workflows.models import (
    CLOSED_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    ExecutionStatus,
    Priority,
    Task,
    TaskComment,
    TaskDependency,
    TaskStatus,
    WorkflowExecution,
)
from workflows.services import notifications

# Moves a person may ask for, before the checks of who and when.
MOVES: dict[str, tuple[str, ...]] = {
    TaskStatus.PENDING: (TaskStatus.SKIPPED, TaskStatus.CANCELLED),
    TaskStatus.READY: (
        TaskStatus.IN_PROGRESS,
        TaskStatus.IN_REVIEW,
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
        TaskStatus.CANCELLED,
    ),
    TaskStatus.IN_PROGRESS: (
        TaskStatus.IN_REVIEW,
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
        TaskStatus.CANCELLED,
    ),
    TaskStatus.IN_REVIEW: (
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
        TaskStatus.CANCELLED,
    ),
    TaskStatus.COMPLETED: (TaskStatus.IN_PROGRESS,),
    TaskStatus.SKIPPED: (TaskStatus.READY,),
    TaskStatus.CANCELLED: (),
}
# What the buttons say for each move.
MOVE_LABELS = {
    TaskStatus.IN_PROGRESS: "Start",
    TaskStatus.IN_REVIEW: "Send for review",
    TaskStatus.COMPLETED: "Complete",
    TaskStatus.SKIPPED: "Skip",
    TaskStatus.CANCELLED: "Cancel task",
    TaskStatus.READY: "Reopen",
}


# Who -----------------------------------------------------------------------------


def member_role(organization_id: int, user: User | None) -> Role | None:
    """The person's role in the firm, or None when not an active member."""
    if user is None:
        return None
    role = (
        Membership.objects.filter(
            organization_id=organization_id, user_id=user.pk, is_active=True
        )
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def require_member(organization_id: int, user: User, minimum: Role) -> Role:
    role = member_role(organization_id, user)
    if role is None:
        raise ValidationError("Only active members of the firm can change tasks.")
    if not role.at_least(minimum):
        if role == Role.READONLY:
            raise ValidationError("Read-only members cannot change tasks.")
        raise ValidationError(f"This needs the {minimum.label} role or higher.")
    return role


def _check_assignee(organization_id: int, assignee: User | None) -> None:
    if assignee is None:
        return
    role = member_role(organization_id, assignee)
    if role is None or role == Role.READONLY:
        raise ValidationError(
            {"assignee": f"{assignee} is not an active member who can do tasks."}
        )


# Notifications ---------------------------------------------------------------------


def notify(kind: str, tasks: Iterable[Task]) -> None:
    """`notifications.notify_tasks_<kind>` for the tasks that have an assignee."""
    tasks = [t for t in tasks if t.assignee_id is not None]
    if tasks:
        getattr(notifications, f"notify_tasks_{kind}")(tasks)


# The status machine ----------------------------------------------------------------


def _label(status: str) -> str:
    return choice_label(TaskStatus, status)


def _open_prerequisites(task: Task) -> list[str]:
    return list(
        Task.objects.filter(
            organization_id=task.organization_id,
            dependent_links__task=task,
        )
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("step_index", "id")
        .values_list("title", flat=True)
    )


def _check_execution(execution: WorkflowExecution | None) -> None:
    if execution is None:
        return
    if execution.status == ExecutionStatus.PAUSED:
        raise ValidationError(
            f"“{execution.name}” is paused. Resume the workflow to move its tasks."
        )
    if execution.status == ExecutionStatus.CANCELLED:
        raise ValidationError(
            f"“{execution.name}” was cancelled; its tasks can no longer change."
        )


def _may_handle_sensitive(task: Task, by: User, role: Role) -> bool:
    """Skip, cancel, reopen: managers and above, or the assignee of a task that
    needs no approval."""
    if role.at_least(Role.MANAGER):
        return True
    return task.assignee_id == by.pk and not task.needs_approval


def _may_approve(task: Task, by: User, role: Role) -> bool:
    if task.assignee_id is not None and task.assignee_id == by.pk:
        return False
    if role.at_least(Role.MANAGER):
        return True
    engagement = task.execution.engagement if task.execution_id else None
    return engagement is not None and engagement.reviewer_id == by.pk


def _check_move(task: Task, to_status: str, by: User | None, role: Role | None):
    """Raise ValidationError unless `by` may move `task` to `to_status`; return the
    status the task really goes to (the system's completion of a task that needs
    approval goes to review)."""
    current = task.status
    title = f"“{task.title}”"
    if to_status not in TaskStatus.values:
        raise ValidationError(f"“{to_status}” is not a task status.")
    if to_status == TaskStatus.PENDING:
        raise ValidationError(
            "Only the workflow makes a task pending, when it waits for others."
        )
    if current == TaskStatus.CANCELLED:
        raise ValidationError(f"{title} was cancelled; it cannot change any more.")
    if by is None:  # the system: automation completes tasks on events
        if to_status != TaskStatus.COMPLETED or current not in OPEN_STATUSES:
            raise ValidationError(
                f"The system can only complete open tasks, not make {title} "
                f"{_label(to_status).lower()}."
            )
        if task.needs_approval and current != TaskStatus.IN_REVIEW:
            return TaskStatus.IN_REVIEW
        if task.needs_approval:
            raise ValidationError(f"{title} needs a person's approval.")
        return to_status
    assert role is not None
    if role == Role.READONLY:
        raise ValidationError("Read-only members cannot change tasks.")
    if to_status not in MOVES[current]:
        if current == TaskStatus.PENDING:
            waiting = ", ".join(_open_prerequisites(task)) or "other steps"
            raise ValidationError(f"{title} cannot start yet: it waits for {waiting}.")
        raise ValidationError(
            f"{title} is {_label(current).lower()}; it cannot go to "
            f"{_label(to_status).lower()}."
        )
    if to_status in (TaskStatus.SKIPPED, TaskStatus.CANCELLED) or current in (
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
    ):
        if not _may_handle_sensitive(task, by, role):
            verb = {
                TaskStatus.SKIPPED: "skip",
                TaskStatus.CANCELLED: "cancel",
            }.get(to_status, "reopen")
            who = (
                "Only managers and above"
                if task.needs_approval
                else "Only managers and above, or the person it is assigned to,"
            )
            raise ValidationError(f"{who} can {verb} {title}.")
        return to_status
    if to_status == TaskStatus.IN_REVIEW and not task.needs_approval:
        raise ValidationError(
            f"{title} needs no approval: complete it when it is done."
        )
    if to_status == TaskStatus.COMPLETED and task.needs_approval:
        if current != TaskStatus.IN_REVIEW:
            raise ValidationError(
                f"{title} needs approval: send it for review, and someone else "
                "approves it."
            )
        if not _may_approve(task, by, role):
            if task.assignee_id == by.pk:
                raise ValidationError(
                    f"You cannot approve your own work: someone else reviews {title}."
                )
            raise ValidationError(
                f"Only a manager or above, or the engagement's reviewer, can "
                f"approve {title}."
            )
    return to_status


def _stamp(task: Task, old: str, new: str, by: User | None) -> None:
    now = timezone.now()
    if new in (TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW, TaskStatus.COMPLETED):
        task.started_at = task.started_at or now
    if new in DONE_STATUSES:
        task.completed_at = now
        task.completed_by = by
        if new == TaskStatus.COMPLETED and old == TaskStatus.IN_REVIEW:
            task.approved_by = by
    elif old in DONE_STATUSES:  # reopened
        task.completed_at = None
        task.completed_by = None
        task.approved_by = None


def _release_dependents(task: Task) -> list[Task]:
    """Make READY the pending dependents of `task` whose prerequisites are all closed."""
    still_waiting = TaskDependency.objects.filter(task=OuterRef("pk")).exclude(
        depends_on__status__in=CLOSED_STATUSES
    )
    ready = list(
        Task.objects.filter(
            organization_id=task.organization_id,
            dependency_links__depends_on=task,
            status=TaskStatus.PENDING,
        )
        .exclude(Exists(still_waiting))
        .distinct()
    )
    if ready:
        Task.objects.filter(pk__in=[t.pk for t in ready]).update(
            status=TaskStatus.READY, updated_at=timezone.now()
        )
        for t in ready:
            t.status = TaskStatus.READY
    return ready


def _hold_dependents(task: Task) -> None:
    """A reopened task blocks again the dependents that had not started yet."""
    Task.objects.filter(
        organization_id=task.organization_id,
        dependency_links__depends_on=task,
        status=TaskStatus.READY,
    ).update(status=TaskStatus.PENDING, updated_at=timezone.now())


def _lock(task: Task) -> tuple[Task, WorkflowExecution | None]:
    """Lock the workflow's row (then the task's) and read both fresh."""
    execution = None
    if task.execution_id is not None:
        execution = (
            WorkflowExecution.objects.select_for_update(of=("self",))
            .select_related("engagement")
            .get(organization_id=task.organization_id, pk=task.execution_id)
        )
    fresh = Task.objects.select_for_update().get(
        organization_id=task.organization_id, pk=task.pk
    )
    if execution is not None:
        fresh.execution = execution
    return fresh, execution


def _save_counters(execution: WorkflowExecution, status_before: str) -> None:
    fields = ["tasks_done", "tasks_total", "updated_at"]
    if execution.status != status_before:
        fields += ["status", "completed_at"]
        execution.save(update_fields=fields)  # the change log records the status
    else:
        WorkflowExecution.objects.filter(pk=execution.pk).update(
            tasks_done=execution.tasks_done,
            tasks_total=execution.tasks_total,
            updated_at=timezone.now(),
        )


def _settle(execution: WorkflowExecution) -> None:
    """Complete the workflow when nothing is left open; reactivate it otherwise."""
    everything_done = execution.tasks_done >= execution.tasks_total
    if everything_done and execution.status == ExecutionStatus.ACTIVE:
        execution.status = ExecutionStatus.COMPLETED
        execution.completed_at = timezone.now()
    elif not everything_done and execution.status == ExecutionStatus.COMPLETED:
        execution.status = ExecutionStatus.ACTIVE
        execution.completed_at = None


@transaction.atomic
def task_transition(
    *, task: Task, to_status: str, by: User | None, comment: str = ""
) -> Task:
    """Move `task` to `to_status` (see the module's rules); return the fresh task.

    Raises ValidationError with a message for the person when the move is not
    allowed. `by=None` is the system (automation)."""
    task, execution = _lock(task)
    role = member_role(task.organization_id, by) if by is not None else None
    if by is not None and role is None:
        raise ValidationError("Only active members of the firm can change tasks.")
    _check_execution(execution)
    if task.status == to_status:
        return task  # dropped where it already was: nothing to do
    new = _check_move(task, to_status, by, role)
    old = task.status
    if new == TaskStatus.READY and _open_prerequisites(task):
        new = TaskStatus.PENDING  # a reopened skip that still waits for others
    _stamp(task, old, new, by)
    task.status = new
    task.save(
        update_fields=[
            "status",
            "started_at",
            "completed_at",
            "completed_by",
            "approved_by",
            "updated_at",
        ]
    )
    if comment.strip():
        TaskComment.objects.create(
            organization_id=task.organization_id,
            task=task,
            author=by,
            body=comment.strip(),
        )
    released: list[Task] = []
    if new in CLOSED_STATUSES:
        released = _release_dependents(task)
    elif old in DONE_STATUSES:
        _hold_dependents(task)
    if execution is not None:
        status_before = execution.status
        execution.tasks_done += (new in DONE_STATUSES) - (old in DONE_STATUSES)
        if new == TaskStatus.CANCELLED:
            execution.tasks_total -= 1
        _settle(execution)
        _save_counters(execution, status_before)
    if new == TaskStatus.READY:
        released.append(task)
    notify("ready", released)
    return task


def allowed_moves(task: Task, *, by: User, role: Role | None) -> list[str]:
    """The statuses `by` may move `task` to now (the buttons a page shows).

    Uses the task's loaded execution (and its engagement) without querying."""
    if role is None or role == Role.READONLY:
        return []
    execution = task.execution if task.execution_id else None
    if execution is not None and execution.status in (
        ExecutionStatus.PAUSED,
        ExecutionStatus.CANCELLED,
    ):
        return []
    moves = []
    for status in MOVES[task.status]:
        try:
            _check_move(task, status, by, role)
        except ValidationError:
            continue
        moves.append(status)
    return moves


def allowed_moves_memo(*, by: User, role: Role | None) -> Callable[[Task], tuple]:
    """`allowed_moves` for many tasks of one viewer (a board, My work): tasks
    alike in everything the rules read share one answer, worked out once.

    The rules above read the task's status, whether it needs approval, whether
    `by` is its assignee (or it has none), its workflow's status, and whether
    `by` reviews the workflow's engagement; never its title or dates."""
    known: dict[tuple, tuple] = {}

    def moves(task: Task) -> tuple:
        execution = task.execution if task.execution_id else None
        engagement = execution.engagement if execution is not None else None
        key = (
            task.status,
            task.needs_approval,
            task.assignee_id is None,
            task.assignee_id == by.pk,
            execution.status if execution is not None else None,
            engagement is not None and engagement.reviewer_id == by.pk,
        )
        if key not in known:
            known[key] = tuple(allowed_moves(task, by=by, role=role))
        return known[key]

    return moves


# Ad-hoc tasks and assignment -----------------------------------------------------------


@transaction.atomic
def task_create_adhoc(
    *,
    organization: Organization,
    title: str,
    client: Client | None = None,
    execution: WorkflowExecution | None = None,
    assignee: User | None = None,
    due_date: date | None = None,
    priority: str = Priority.NORMAL,
    by: User | None,
    instructions: str = "",
    budgeted_minutes: int = 0,
) -> Task:
    """A task outside the template: on a workflow (it joins its counters) or alone."""
    if by is not None:
        require_member(organization.pk, by, Role.STAFF)
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the task a title."
    if priority not in Priority.values:
        errors["priority"] = "Choose a priority."
    if client is not None and client.organization_id != organization.pk:
        errors["client"] = "Choose one of the firm's clients."
    if execution is not None and execution.organization_id != organization.pk:
        errors["execution"] = "Choose one of the firm's workflows."
    elif (
        execution is not None
        and client is not None
        and client.pk != execution.client_id
    ):
        errors["client"] = "The task's client must be the workflow's client."
    if errors:
        raise ValidationError(errors)
    _check_assignee(organization.pk, assignee)
    step_index = None
    if execution is not None:
        execution = WorkflowExecution.objects.select_for_update().get(
            organization=organization, pk=execution.pk
        )
        if execution.status == ExecutionStatus.CANCELLED:
            raise ValidationError(
                f"“{execution.name}” was cancelled; it takes no new tasks."
            )
        last = Task.objects.filter(
            organization=organization, execution=execution
        ).aggregate(last=Max("step_index"))["last"]
        step_index = 0 if last is None else last + 1
        client = execution.client
    task = Task(
        organization=organization,
        execution=execution,
        client=client,
        step_index=step_index,
        title=title[:200],
        instructions=instructions,
        assignee=assignee,
        due_date=due_date,
        priority=priority,
        status=TaskStatus.READY,
        budgeted_minutes=budgeted_minutes,
    )
    task.full_clean(exclude=["execution", "client", "assignee"])
    task.save()
    if execution is not None:
        status_before = execution.status
        execution.tasks_total += 1
        _settle(execution)
        _save_counters(execution, status_before)
    if assignee is not None and (by is None or assignee.pk != by.pk):
        notify("assigned", [task])
    return task


@transaction.atomic
def task_assign(*, task: Task, assignee: User | None, by: User | None) -> Task:
    """Give the task to `assignee` (an active member who is not read-only), or to
    nobody. Closed tasks keep the person who did them."""
    if by is not None:
        require_member(task.organization_id, by, Role.STAFF)
    task = Task.objects.select_for_update().get(
        organization_id=task.organization_id, pk=task.pk
    )
    if task.status in CLOSED_STATUSES:
        raise ValidationError(
            f"“{task.title}” is {_label(task.status).lower()}; it keeps its assignee."
        )
    _check_assignee(task.organization_id, assignee)
    new_id = assignee.pk if assignee is not None else None
    if task.assignee_id == new_id:
        return task
    task.assignee = assignee
    task.save(update_fields=["assignee", "updated_at"])
    if assignee is not None and (by is None or assignee.pk != by.pk):
        notify("assigned", [task])
    return task


# The task page's small writes ----------------------------------------------------------


@transaction.atomic
def task_checklist_toggle(*, task: Task, index: int, done: bool, by: User) -> Task:
    """Tick (or untick) one checklist item of an open task."""
    require_member(task.organization_id, by, Role.STAFF)
    task = Task.objects.select_for_update().get(
        organization_id=task.organization_id, pk=task.pk
    )
    if task.status in CLOSED_STATUSES:
        raise ValidationError(
            f"“{task.title}” is {_label(task.status).lower()}: reopen it to change "
            "its checklist."
        )
    if not 0 <= index < len(task.checklist):
        raise ValidationError("That checklist item no longer exists. Reload the page.")
    item = dict(task.checklist[index])
    item["done"] = bool(done)
    task.checklist = [*task.checklist[:index], item, *task.checklist[index + 1 :]]
    task.save(update_fields=["checklist", "updated_at"])
    return task


@transaction.atomic
def task_comment_add(*, task: Task, body: str, by: User) -> TaskComment:
    require_member(task.organization_id, by, Role.STAFF)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the comment first."})
    comment = TaskComment.objects.create(
        organization_id=task.organization_id, task=task, author=by, body=body
    )
    notifications.notify_task_comment(comment)
    return comment


@transaction.atomic
def task_log_minutes(*, task: Task, minutes: int, by: User) -> Task:
    """Add time worked on the task to its actual minutes (budget vs actual)."""
    require_member(task.organization_id, by, Role.STAFF)
    if not 0 < minutes <= 24 * 60:
        raise ValidationError({"minutes": "Enter between 1 and 1440 minutes."})
    Task.objects.filter(organization_id=task.organization_id, pk=task.pk).update(
        actual_minutes=F("actual_minutes") + minutes, updated_at=timezone.now()
    )
    task.refresh_from_db(fields=["actual_minutes", "updated_at"])
    return task
