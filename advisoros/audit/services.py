"""Writing security events."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest

from advisoros.accounts.models import User
from advisoros.audit.chain import chain_link
from advisoros.audit.models import AuditAction, AuditEvent
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
