"""Linking a task to a document request: the task completes when the client's
documents are accepted. The form sits on the task page (W1's template includes
`workflows/automation_link_form.html`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from documents.models import DocumentRequest, DocumentRequestItem
from workflows.models import Task, TaskStatus
from workflows.selectors import visible_tasks
from workflows.services.automation import task_link_request


def _get_task(request: OrgRequest, task_uuid) -> Task:
    return get_object_or_404(visible_tasks(request), uuid=task_uuid)


def _target(request: OrgRequest, task: Task, value: str):
    """ "item:<uuid>" or "request:<uuid>" of the task's client, or None for "".
    Another firm's or client's request is not found (404)."""
    if not value:
        return None
    kind, _, key = value.partition(":")
    model = {"item": DocumentRequestItem, "request": DocumentRequest}.get(kind)
    if model is None:
        raise ValidationError("Choose a request or one of its items.")
    client_field = "request__client_id" if model is DocumentRequestItem else "client_id"
    qs = model.objects.filter(
        organization=request.organization, **{client_field: task.client_id}
    )
    if model is DocumentRequestItem:
        qs = qs.select_related("request")
    try:
        return get_object_or_404(qs, uuid=key)
    except ValidationError as exc:  # not a uuid
        raise ValidationError("Choose a request or one of its items.") from exc


@require_POST
@require_role(Role.STAFF)
def task_link_request_view(
    request: OrgRequest, org_slug: str, task_uuid
) -> HttpResponse:
    task = _get_task(request, task_uuid)
    try:
        target = _target(request, task, request.POST.get("target", "").strip())
        task = task_link_request(task=task, request_or_item=target, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if target is None:
            messages.success(
                request, "The task no longer waits for a document request."
            )
        elif task.status == TaskStatus.COMPLETED:
            messages.success(request, "Already accepted: the task is completed.")
        elif task.status == TaskStatus.IN_REVIEW:
            messages.success(request, "Already accepted: the task went to review.")
        else:
            messages.success(
                request,
                "The task completes by itself when the client's documents are "
                "accepted.",
            )
    return redirect("workflows:task_detail", org_slug=org_slug, task_uuid=task.uuid)


urlpatterns = [
    path(
        "tasks/<uuid:task_uuid>/link-request/",
        task_link_request_view,
        name="task_link_request",
    ),
]
