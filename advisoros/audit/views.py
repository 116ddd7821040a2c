"""The firm's audit trail: security events and model changes, filtered and exported."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from itertools import batched
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from advisoros.audit.forms import AuditFilterForm
from advisoros.audit.integrity import checkpoint_create, integrity_verify
from advisoros.audit.models import AuditAction, AuditCheckpoint, AuditEvent, LogEntry
from advisoros.audit.privacy import redact_private_changes
from advisoros.audit.services import audit_event_record
from advisoros.csv_safe import csv_safe
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest

PAGE_SIZE = 50


def _filtered(request: OrgRequest) -> tuple[str, AuditFilterForm, QuerySet]:
    kind = "changes" if request.GET.get("kind") == "changes" else "events"
    org = request.organization
    form = AuditFilterForm(request.GET or None, organization=org, kind=kind)
    if kind == "changes":
        qs = LogEntry.objects.filter(organization=org).select_related(
            "actor", "content_type"
        )
        time_field, actor_field = "timestamp", "actor"
    else:
        qs = AuditEvent.objects.filter(organization=org).select_related(
            "actor", "target_user"
        )
        time_field, actor_field = "created_at", "actor"
    if form.is_valid():
        data = form.cleaned_data
        tz = ZoneInfo(org.timezone)
        if data["actor"]:
            qs = qs.filter(**{f"{actor_field}_id": data["actor"].user_id})
        if data["action"] != "":
            qs = qs.filter(action=data["action"])
        if data["date_from"]:
            qs = qs.filter(
                **{
                    f"{time_field}__gte": datetime.combine(
                        data["date_from"], time.min, tz
                    )
                }
            )
        if data["date_to"]:
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tz)
            qs = qs.filter(**{f"{time_field}__lt": end})
    return kind, form, qs.order_by(f"-{time_field}", "-id")


@require_role(Role.ADMIN)
def audit_log(request: OrgRequest, org_slug: str) -> HttpResponse:
    kind, form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    if kind == "changes":
        page.object_list = list(page.object_list)
        redact_private_changes(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    ctx = {"kind": kind, "form": form, "page": page, "query": params.urlencode()}
    return render(request, "audit/audit_log.html", ctx)


@require_role(Role.ADMIN)
def audit_export(request: OrgRequest, org_slug: str) -> HttpResponse:
    kind, form, qs = _filtered(request)
    stamp = timezone.localtime(
        timezone.now(), ZoneInfo(request.organization.timezone)
    ).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{kind}-{request.organization.slug}-{stamp}.csv"'
    )
    writer = csv.writer(response)
    if kind == "changes":
        writer.writerow(
            [
                "timestamp",
                "actor",
                "action",
                "object type",
                "object",
                "changes",
                "ip address",
            ]
        )
        for chunk in batched(qs.iterator(chunk_size=2000), 2000):
            redact_private_changes(chunk)
            writer.writerows(
                [
                    e.timestamp.isoformat(),
                    e.actor_email or "",
                    e.get_action_display(),
                    e.content_type.model,
                    csv_safe(e.object_repr),
                    csv_safe(e.changes_str),
                    e.remote_addr or "",
                ]
                for e in chunk
            )
    else:
        writer.writerow(
            [
                "timestamp",
                "actor",
                "event",
                "target",
                "ip address",
                "user agent",
                "detail",
            ]
        )
        for e in qs.iterator(chunk_size=2000):
            writer.writerow(
                [
                    e.created_at.isoformat(),
                    e.actor_email,
                    e.get_action_display(),
                    csv_safe(e.target),
                    e.ip_address or "",
                    csv_safe(e.user_agent),
                    csv_safe(str(e.detail or "")),
                ]
            )
    audit_event_record(
        action=AuditAction.AUDIT_EXPORTED,
        organizations=[request.organization],
        actor=request.user,
        request=request,
        detail={
            "kind": kind,
            "filters": {k: v for k, v in request.GET.items() if k != "page"},
        },
    )
    return response


@require_role(Role.OWNER)
def audit_integrity(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The firm's audit trail checked now: event chain, change-log seals, and both
    against the newest signed checkpoint in the file store."""
    org = request.organization
    ctx = {
        # the newest checkpoint's index row (1), every event (2), every seal (3)
        # and every change-log entry (4), each read in one pass; the file itself
        # comes from the store
        "report": integrity_verify(organization=org),
        # the last few checkpoints (5)
        "checkpoints": list(AuditCheckpoint.objects.filter(organization=org)[:10]),
    }
    return render(request, "audit/integrity.html", ctx)


@require_role(Role.OWNER)
@require_POST
def audit_checkpoint(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    with transaction.atomic():
        checkpoint = checkpoint_create(organization=org, force=True)
        audit_event_record(
            action=AuditAction.AUDIT_CHECKPOINT_CREATED,
            organizations=[org],
            actor=request.user,
            request=request,
            detail={
                "checkpoint": checkpoint.name,
                "events": checkpoint.events,
                "seals": checkpoint.seals,
            },
        )
    messages.success(
        request,
        f"Checkpoint written: {checkpoint.events} events and "
        f"{checkpoint.sealed_entries} change-log entries.",
    )
    return redirect("audit:integrity", org_slug=org.slug)
