"""Writing security events, and change-log entries for rows inserted in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from auditlog.cid import get_cid
from auditlog.diff import get_field_value, get_fields_in_model, get_mask_function
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.encoding import smart_str

from advisoros.accounts.models import User
from advisoros.audit.chain import chain_link
from advisoros.audit.models import AuditAction, AuditEvent, LogEntry
from advisoros.audit.privacy import mask_private_changes
from advisoros.http import client_ip
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization


def organizations_of(user: User | None) -> list[int]:
    """The firms a person belongs to (active or not): where their sign-ins are shown."""
    if user is None or user.pk is None:
        return []
    with platform_bypass():
        return list(
            Membership.objects.filter(user=user).values_list(
                "organization_id", flat=True
            )
        )


def audit_event_record(
    *,
    action: AuditAction,
    organizations: Iterable[Organization | int | None],
    actor: User | None = None,
    actor_email: str = "",
    target_user: User | None = None,
    target: str = "",
    request: HttpRequest | None = None,
    ip_address: str | None = None,
    detail: dict | None = None,
) -> list[AuditEvent]:
    """Record one event in each named firm's log (one row with no firm when none is named).

    A sign-in concerns every firm the person belongs to, so the audit writer
    names the firms itself and writes under the platform bypass.
    """
    org_ids = sorted(
        {o.pk if isinstance(o, Organization) else o for o in organizations} - {None}
    )
    if actor is not None and not actor.is_authenticated:
        actor = None
    common = dict(
        action=action,
        actor=actor,
        actor_email=actor_email or (actor.email if actor else ""),
        target_user=target_user,
        target=target or (target_user.email if target_user else ""),
        # A background job has no request: it passes the address it was queued from.
        ip_address=client_ip(request) if request is not None else ip_address,
        user_agent=(
            request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
        ),
        detail=detail or {},
    )
    events = [
        AuditEvent(organization_id=org_id, **common) for org_id in org_ids or [None]
    ]
    with platform_bypass(), transaction.atomic():
        for event in events:
            chain_link([event], event.organization_id)
        return AuditEvent.objects.bulk_create(events)


def mask_fully(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: a masked field shows that it changed, nothing of its value.

    django-auditlog's default keeps the second half of the string, which for a
    token or a password hash is still a secret.
    """
    return "••••••••"


def creation_diff(sample) -> Callable[[models.Model], dict | None]:
    """What `auditlog.diff.model_instance_diff(None, obj)` records for a new row
    of `sample`'s model (its stored fields only), as a function to apply to many
    rows: the tracked fields, masks and value formats are django-auditlog's own,
    worked out once instead of per row (per row, auditlog also raises and
    catches two exceptions a field to find that a new row had no old value).
    `tests/audit/test_log_created.py` checks both give the same."""
    model_fields = auditlog.get_model_fields(sample._meta.model)
    stored = {f.name for f in sample._meta.concrete_fields if not f.generated}
    fields = [f for f in get_fields_in_model(sample) if f.name in stored]
    if model_fields["include_fields"]:
        fields = [f for f in fields if f.name in model_fields["include_fields"]]
    if model_fields["exclude_fields"]:
        fields = [f for f in fields if f.name not in model_fields["exclude_fields"]]
    masked = set(model_fields["mask_fields"])
    mask = get_mask_function(model_fields.get("mask_callable"))
    none = smart_str(None)  # auditlog's "old value" of every field of a new row

    def diff(obj) -> dict | None:
        changes = {}
        for field in fields:
            value = get_field_value(obj, field)
            if value != none:
                value = smart_str(value)
                changes[field.name] = (
                    (mask(none), mask(value)) if field.name in masked else (none, value)
                )
        return changes or None

    return diff


def log_created(
    objects: list,
    *,
    actor: User | None,
    remote_addr: str | None = None,
    batch_size: int = 1000,
) -> None:
    """The "created" change-log entries django-auditlog writes on each save, for
    rows inserted in bulk (bulk inserts send no signals). Fields are masked as on
    a save, and a private row's content as on a save (`audit.privacy`).
    `actor` None: the system did it (a scheduled job)."""
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(objects[0])
    cid = get_cid()
    # Stored fields only: a generated column (computed by PostgreSQL, unknown to
    # a bulk-inserted instance) would be fetched with a query per row.
    changes = creation_diff(objects[0])
    LogEntry.objects.bulk_create(
        (
            LogEntry(
                organization_id=obj.organization_id,
                content_type=content_type,
                object_pk=str(obj.pk),
                object_id=obj.pk,
                object_repr=str(obj),
                action=LogEntry.Action.CREATE,
                changes=mask_private_changes(obj, changes(obj)),
                actor=actor,
                actor_email=actor.email if actor is not None else "",
                remote_addr=remote_addr,
                cid=cid,
            )
            for obj in objects
        ),
        batch_size=batch_size,
    )
