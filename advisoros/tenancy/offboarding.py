"""A firm leaving: deactivated (read-only, export still open), then deleted when due.

- `firm_deactivate`: every write to the firm's pages, staff and portal, answers
  "this firm is deactivated" (the tenancy and portal middlewares ask
  `writes_refused`); pages, downloads and the full export still work, and the
  firm's scheduled jobs stop (`enqueue_for_organizations` skips it).
- `firm_deletion_schedule`: the firm's data is deleted `DELETION_DELAY_DAYS`
  later unless an owner cancels (or reactivates) first.
- `firm_deletions_run` (every hour, advisoros/tenancy/schedules.py) queues
  `firm_delete_job` for each firm whose day has come. What is deleted and what
  is kept is written in docs/security.md (section 5): every tenant row and
  stored file goes; the audit trail (security events and change log) and the
  firm's row as a tombstone stay, since the application's database role may
  only insert into the audit tables.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import (
    AuditAction,
    AuditCheckpoint,
    AuditEvent,
    ChangeLogSeal,
    LogEntry,
)
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.export import file_fields, firm_tables, is_tenant_model
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations, job_retry

logger = logging.getLogger(__name__)

DELETION_DELAY_DAYS = 30
OPEN_WHEN_DEACTIVATED = "open_when_deactivated"


def open_when_deactivated(view):
    """Mark a view that still takes a POST in a deactivated firm (start or
    download the export, reactivate, cancel the deletion), or in a firm that
    is read-only for its subscription (subscribe, fix the payment)."""
    setattr(view, OPEN_WHEN_DEACTIVATED, True)
    return view


def writes_refused(
    request: HttpRequest,
    organization: Organization,
    *,
    open_names: frozenset[str] = frozenset(),
) -> bool:
    """True when `request` would write to a deactivated firm: any method but
    GET/HEAD/OPTIONS, unless its view is marked `open_when_deactivated` or its
    URL name is one of `open_names` (the portal's sign-in pages)."""
    if organization.deactivated_at is None:
        return False
    return write_refused_here(request, open_names=open_names)


def write_refused_here(
    request: HttpRequest, *, open_names: frozenset[str] = frozenset()
) -> bool:
    """True when `request` writes to a read-only firm's page that does not stay
    open: also the wall of a firm read-only for its subscription
    (advisoros.tenancy.plans), whose export and Subscription page stay open."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return True
    if match.url_name in open_names:
        return False
    return not getattr(match.func, OPEN_WHEN_DEACTIVATED, False)


def _record(action, organization, by, request, **detail) -> None:
    audit_event_record(
        action=action,
        organizations=[organization],
        actor=by,
        target=organization.name,
        request=request,
        detail=detail,
    )


@transaction.atomic
def firm_deactivate(
    *, organization: Organization, by: User | None, request: HttpRequest | None = None
) -> None:
    if organization.deactivated_at is not None:
        return
    organization.deactivated_at = timezone.now()
    organization.save(update_fields=["deactivated_at"])
    _record(AuditAction.FIRM_DEACTIVATED, organization, by, request)


@transaction.atomic
def firm_reactivate(
    *, organization: Organization, by: User | None, request: HttpRequest | None = None
) -> None:
    """Writable again; a scheduled deletion is cancelled with it."""
    if organization.deactivated_at is None or organization.deleted_at is not None:
        return
    if organization.deletion_scheduled_for is not None:
        firm_deletion_cancel(organization=organization, by=by, request=request)
    organization.deactivated_at = None
    organization.save(update_fields=["deactivated_at"])
    _record(AuditAction.FIRM_REACTIVATED, organization, by, request)


@transaction.atomic
def firm_deletion_schedule(
    *,
    organization: Organization,
    by: User | None,
    request: HttpRequest | None = None,
    days: int = DELETION_DELAY_DAYS,
) -> None:
    if organization.deactivated_at is None:
        raise ValueError("Deactivate the firm before scheduling its deletion.")
    organization.deletion_scheduled_for = timezone.now() + timedelta(days=days)
    organization.save(update_fields=["deletion_scheduled_for"])
    _record(
        AuditAction.FIRM_DELETION_SCHEDULED,
        organization,
        by,
        request,
        due=organization.deletion_scheduled_for.isoformat(),
    )


@transaction.atomic
def firm_deletion_cancel(
    *, organization: Organization, by: User | None, request: HttpRequest | None = None
) -> None:
    if organization.deletion_scheduled_for is None or organization.deleted_at:
        return
    organization.deletion_scheduled_for = None
    organization.save(update_fields=["deletion_scheduled_for"])
    _record(AuditAction.FIRM_DELETION_CANCELLED, organization, by, request)


def firm_deletions_run() -> int:
    """Queue the deletion of every firm whose scheduled day has passed."""
    due = Organization.objects.filter(
        deletion_scheduled_for__lte=timezone.now(),
        deactivated_at__isnull=False,
        deleted_at__isnull=True,
    ).values_list("pk", flat=True)
    return enqueue_for_organizations(
        "advisoros.tenancy.offboarding.firm_delete_job",
        due,
        include_deactivated=True,
    )


@job_retry(attempts=3)
def firm_delete_job(*, organization: Organization) -> int:
    """Delete a deactivated firm's data (its scheduled day has come)"""
    organization.refresh_from_db()
    due = organization.deletion_scheduled_for
    if (
        organization.deleted_at is not None
        or organization.deactivated_at is None
        or due is None
        or due > timezone.now()
    ):
        return 0  # cancelled, reactivated, or done by an earlier try
    return sum(firm_delete(organization=organization).values())


def _deleted_tables() -> list:
    """Every tenant table but the audit trail, children first, and last the
    tables database triggers keep from the others (deleting a source row
    writes to them)."""
    data = firm_tables()
    rest = [
        m
        for m in _all_tenant_models()
        if m not in data
        and m not in (AuditEvent, LogEntry, ChangeLogSeal, AuditCheckpoint)
    ]
    kept = [m for m in rest if getattr(m, "kept_by_database", False)]
    rest = [m for m in rest if m not in kept]
    return [*rest, *reversed(data), *kept]


def _all_tenant_models() -> list:
    from django.apps import apps

    return [
        m
        for m in apps.get_models()
        if is_tenant_model(m) and m._meta.managed and not m._meta.proxy
    ]


def firm_delete(*, organization: Organization) -> dict[str, int]:
    """Delete every tenant row and stored file of `organization`, in its context.

    Files first (a storage cannot take part in the transaction; a retry finds
    the rest), then the rows in one transaction with plain DELETEs: no change-log
    entry per row, one `firm_deleted` event instead. The audit tables are not
    touched (append-only; the application role may not delete from them), and
    the firm's row stays as their tombstone, its settings and logo cleared.
    """
    tables = _deleted_tables()
    files = 0
    for model in tables:
        for f in file_fields(model):
            names = (
                model._default_manager.filter(organization=organization)
                .exclude(**{f.attname: ""})
                .values_list(f.attname, flat=True)
                .iterator(chunk_size=2000)
            )
            for name in names:
                f.storage.delete(name)
                files += 1
    if organization.logo:
        organization.logo.storage.delete(organization.logo.name)
        files += 1
    counts: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            for model in tables:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(
                    f"DELETE FROM {table} WHERE organization_id = %s",  # noqa: S608
                    [organization.pk],
                )
                counts[model._meta.label_lower] = cursor.rowcount
        organization.logo = ""
        organization.deleted_at = timezone.now()
        organization.save(update_fields=["logo", "deleted_at"])
        audit_event_record(
            action=AuditAction.FIRM_DELETED,
            organizations=[organization],
            target=organization.name,
            detail={"rows": counts, "files": files},
        )
    counts["files"] = files
    logger.info("Firm %s deleted: %s", organization.pk, counts)
    return counts
