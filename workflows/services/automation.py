"""Automation: tasks that complete by themselves when something happens elsewhere.

A task waits for an event through `completes_on` (copied from its step) and,
where the event concerns one object, `completes_on_target` ("<app>.<model>:<id>"):

| completes_on | completed when | target |
|---|---|---|
| request_item_fulfilled | staff accept the item the client sent (documents) | the DocumentRequestItem, set with `task_link_request` |
| request_fulfilled | every item of the request is accepted | the DocumentRequest, set with `task_link_request` |
| letter_accepted | the engagement letter is accepted (clients) | the workflow's engagement, or an Engagement target |
| invoice_paid | the invoice is paid in full (billing) | the workflow's engagement (the invoice's), or an Invoice target ("billing.invoice:<id>") |

The lower apps send signals after their transaction commits; the receivers in
`workflows.signals` call `tasks_complete_for_event`, which moves each waiting open
task through the engine's `task_transition` as the system (`by=None`): a task
that needs approval goes to review instead, a paused or cancelled workflow's
task is left alone (and logged). Linking a task to something already fulfilled
completes it at once.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Role
from clients.models import Engagement
from documents.models import DocumentRequest, DocumentRequestItem
from workflows.models import OPEN_STATUSES, CompletesOn, Task, TaskStatus
from workflows.services.tasks import require_member, task_transition

logger = logging.getLogger(__name__)

ItemStatus = DocumentRequestItem.Status
RequestStatus = DocumentRequest.Status


def target_of(obj: Model) -> str:
    """The `completes_on_target` naming `obj`: "documents.documentrequestitem:42"."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def _complete(tasks: list[Task], *, reason: str) -> int:
    done = 0
    for task in tasks:
        try:
            task_transition(
                task=task, to_status=TaskStatus.COMPLETED, by=None, comment=reason
            )
        except ValidationError as exc:
            # A paused or cancelled workflow, or a task waiting in review: the
            # event is noted in the log and a person takes it from there.
            logger.info("Task %s not completed by %s: %s", task.uuid, reason, exc)
            continue
        done += 1
    return done


def tasks_complete_for_event(
    *, organization_id: int, completes_on: str, targets: Q, reason: str
) -> int:
    """Complete the firm's open tasks waiting for `completes_on` on `targets`
    (a Q on Task). Returns how many moved (to completed, or to review)."""
    tasks = list(
        Task.objects.filter(
            organization_id=organization_id,
            completes_on=completes_on,
            status__in=OPEN_STATUSES,
        )
        .filter(targets)
        .order_by("pk")
    )
    return _complete(tasks, reason=reason)


def request_item_fulfilled(*, item: DocumentRequestItem) -> int:
    """The item was accepted: complete its tasks, and the request's when it is
    complete too."""
    done = tasks_complete_for_event(
        organization_id=item.organization_id,
        completes_on=CompletesOn.REQUEST_ITEM_FULFILLED,
        targets=Q(completes_on_target=target_of(item)),
        reason=f"Completed automatically: “{item.title}” was accepted.",
    )
    request = DocumentRequest.objects.get(
        organization_id=item.organization_id, pk=item.request_id
    )
    if request.status == RequestStatus.COMPLETED:
        done += tasks_complete_for_event(
            organization_id=item.organization_id,
            completes_on=CompletesOn.REQUEST_FULFILLED,
            targets=Q(completes_on_target=target_of(request)),
            reason=f"Completed automatically: every item of “{request.title}” "
            "was accepted.",
        )
    return done


def engagement_letter_accepted(*, engagement: Engagement) -> int:
    """The letter was accepted: complete the tasks waiting for it in the
    engagement's workflows (or targeting the engagement)."""
    return tasks_complete_for_event(
        organization_id=engagement.organization_id,
        completes_on=CompletesOn.LETTER_ACCEPTED,
        targets=Q(execution__engagement_id=engagement.pk)
        | Q(completes_on_target=target_of(engagement)),
        reason="Completed automatically: the engagement letter was accepted.",
    )


def invoice_paid(
    *,
    organization_id: int,
    invoice_target: str,
    engagement_id: int | None,
    client_id: int,
    number: str,
) -> int:
    """An invoice was paid in full: complete the tasks waiting for it, in the
    workflows of its engagement (or, for an invoice of no engagement, the
    client's workflows of no engagement), or targeting it by name. Billing sits
    above this app, so the invoice arrives as plain values."""
    if engagement_id is not None:
        scope = Q(execution__engagement_id=engagement_id)
    else:
        scope = Q(execution__client_id=client_id, execution__engagement__isnull=True)
    return tasks_complete_for_event(
        organization_id=organization_id,
        completes_on=CompletesOn.INVOICE_PAID,
        targets=scope | Q(completes_on_target=invoice_target),
        reason=f"Completed automatically: invoice {number} was paid.",
    )


# Linking a task to a document request -----------------------------------------------


@transaction.atomic
def task_link_request(
    *,
    task: Task,
    request_or_item: DocumentRequest | DocumentRequestItem | None,
    by: User | None,
) -> Task:
    """Make `task` complete when the item is accepted (or every item of the request
    is); None unlinks it. An item or request already fulfilled completes the task
    at once."""
    if by is not None:
        require_member(task.organization_id, by, Role.STAFF)
    task = Task.objects.get(organization_id=task.organization_id, pk=task.pk)
    if not task.is_open:
        raise ValidationError(
            f"“{task.title}” is {task.get_status_display().lower()}: it waits for "
            "nothing any more."
        )
    if request_or_item is None:
        if task.completes_on in (
            CompletesOn.REQUEST_ITEM_FULFILLED,
            CompletesOn.REQUEST_FULFILLED,
        ):
            task.completes_on = CompletesOn.MANUAL
        task.completes_on_target = ""
        _save_link(task)
        return task
    if isinstance(request_or_item, DocumentRequestItem):
        item, request = request_or_item, request_or_item.request
        completes_on = CompletesOn.REQUEST_ITEM_FULFILLED
        fulfilled = item.status == ItemStatus.ACCEPTED
        what = f"“{item.title}” of “{request.title}”"
    else:
        item, request = None, request_or_item
        completes_on = CompletesOn.REQUEST_FULFILLED
        fulfilled = request.status == RequestStatus.COMPLETED
        what = f"every item of “{request.title}”"
    if request.organization_id != task.organization_id or (
        task.client_id is not None and request.client_id != task.client_id
    ):
        raise ValidationError("Choose a document request of the task's client.")
    if request.status == RequestStatus.CANCELLED:
        raise ValidationError(f"“{request.title}” was cancelled.")
    task.completes_on = completes_on
    task.completes_on_target = target_of(item or request)
    _save_link(task)
    if fulfilled:
        _complete([task], reason=f"Completed automatically: {what} was accepted.")
        task.refresh_from_db()
    return task


def _save_link(task: Task) -> None:
    # An UPDATE of two columns: the status stays task_transition's alone.
    Task.objects.filter(pk=task.pk).update(
        completes_on=task.completes_on,
        completes_on_target=task.completes_on_target,
        updated_at=timezone.now(),
    )


def link_choices(task: Task) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """The link form's choices: per open request of the task's client (newest
    twenty), ("request:<uuid>" for every item, then "item:<uuid>" each), with the
    one the task waits for selected. Two queries (requests, their items)."""
    if task.client_id is None:
        return []
    requests = (
        DocumentRequest.objects.filter(
            organization_id=task.organization_id,
            client_id=task.client_id,
            status=RequestStatus.OPEN,
        )
        .prefetch_related("items")
        .order_by("-created_at")[:20]
    )
    groups = []
    for request in requests:
        options = [
            (
                f"request:{request.uuid}",
                f"Every item of “{request.title}”",
                task.completes_on_target == target_of(request),
            )
        ]
        options += [
            (
                f"item:{item.uuid}",
                item.title
                + (" (accepted)" if item.status == ItemStatus.ACCEPTED else ""),
                task.completes_on_target == target_of(item),
            )
            for item in request.items.all()
        ]
        groups.append((request.title, options))
    return groups
