"""The sync's pages (owners and admins, like the connection page): the error
queue and the conflicts, with Retry and the resolutions, and the Sync now
button. The connection page shows the sync's health and links here."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from advisoros.tenancy.tasks import enqueue_for_organization
from integrations.quickbooks.models import (
    ConnectionKind,
    ConnectionStatus,
    QuickBooksConnection,
    SyncIssue,
)
from integrations.quickbooks.sync import resolutions_for, sync_issue_resolve
from integrations.quickbooks.tasks import quickbooks_sync_queue

# The newest open items shown; the page says how many more wait.
SHOWN = 100


def _get_issue(request: OrgRequest, sync_issue_uuid) -> SyncIssue:
    # Query: the item, in this firm only.
    return get_object_or_404(
        SyncIssue.objects.filter(organization=request.organization).select_related(
            "connection"
        ),
        uuid=sync_issue_uuid,
    )


def _to_issues(request: OrgRequest) -> HttpResponse:
    return redirect("quickbooks:issues", org_slug=request.organization.slug)


@require_role(Role.ADMIN)
@require_GET
def quickbooks_issues(request: OrgRequest, org_slug: str) -> HttpResponse:
    organization = request.organization
    open_items = SyncIssue.objects.filter(
        organization=organization, status=SyncIssue.Status.OPEN
    )
    # Query: the newest open items (conflicts and errors).
    issues = list(
        open_items.only(
            "uuid",
            "kind",
            "direction",
            "entity",
            "key",
            "label",
            "message",
            "ours",
            "theirs",
            "attempts",
            "updated_at",
        ).order_by("-updated_at", "-pk")[:SHOWN]
    )
    for issue in issues:
        issue.choices = resolutions_for(issue)
    ctx = {
        "conflicts": [i for i in issues if i.kind == SyncIssue.Kind.CONFLICT],
        "errors": [i for i in issues if i.kind == SyncIssue.Kind.ERROR],
        # Query: how many are open in all (only when the page is full).
        "total": open_items.count() if len(issues) == SHOWN else len(issues),
        "shown": SHOWN,
    }
    return render(request, "integrations/quickbooks/issues.html", ctx)


@require_POST
@require_role(Role.ADMIN)
def quickbooks_issue_retry(
    request: OrgRequest, org_slug: str, sync_issue_uuid
) -> HttpResponse:
    issue = _get_issue(request, sync_issue_uuid)
    if issue.kind != SyncIssue.Kind.ERROR or issue.status != SyncIssue.Status.OPEN:
        messages.info(request, "That item is not waiting for a retry.")
        return _to_issues(request)
    with transaction.atomic():
        enqueue_for_organization(
            "integrations.quickbooks.tasks.sync_issue_retry",
            request.organization,
            issue_id=issue.pk,
        )
    messages.success(request, f"Trying “{issue.label or issue.key}” again.")
    return _to_issues(request)


@require_POST
@require_role(Role.ADMIN)
def quickbooks_issue_resolve(
    request: OrgRequest, org_slug: str, sync_issue_uuid
) -> HttpResponse:
    issue = _get_issue(request, sync_issue_uuid)
    try:
        with transaction.atomic():
            sync_issue_resolve(
                issue=issue, choice=request.POST.get("choice", ""), by=request.user
            )
            quickbooks_sync_queue(issue.connection)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, f"“{issue.label or issue.key}” resolved; the sync follows."
        )
    return _to_issues(request)


@require_POST
@require_role(Role.ADMIN)
def quickbooks_sync_now(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: the firm's own books, connected.
    connection = QuickBooksConnection.objects.filter(
        organization=request.organization,
        kind=ConnectionKind.FIRM,
        status=ConnectionStatus.CONNECTED,
    ).first()
    if connection is None:
        messages.error(request, "Connect the firm's QuickBooks company first.")
    else:
        with transaction.atomic():
            quickbooks_sync_queue(connection)
        messages.success(request, "A sync of the firm's books is on its way.")
    return redirect("quickbooks:connection", org_slug=request.organization.slug)
