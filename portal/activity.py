"""Every portal access, written twice: a `PortalActivity` row (the client's
timeline, the contact's access log) and an audit event (the firm's hash-chained
log), both with the address and browser it came from."""

from __future__ import annotations

from django.http import HttpRequest

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.http import client_ip
from clients.models import Client, Contact
from portal.models import Activity, PortalActivity, RequestLink


def portal_activity_record(
    *,
    organization_id: int,
    action: Activity,
    request: HttpRequest | None,
    contact: Contact | None = None,
    email: str = "",
    client: Client | None = None,
    summary: str = "",
    link: RequestLink | None = None,
    detail: dict | None = None,
) -> PortalActivity:
    email = email or (contact.email if contact is not None else "")
    detail = dict(detail or {})
    if client is not None:
        detail.setdefault("client", str(client.uuid))
    if contact is not None:
        detail.setdefault("contact", str(contact.uuid))
    if link is not None:
        detail.setdefault("link", str(link.uuid))
    ip = client_ip(request) if request is not None else None
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    row = PortalActivity.objects.create(
        organization_id=organization_id,
        contact=contact,
        client=client,
        email=email[:254],
        action=action,
        summary=summary[:300],
        via_link=link,
        ip_address=ip,
        user_agent=agent,
        detail=detail,
    )
    audit_event_record(
        action=AuditAction(f"portal_{Activity(action).value}"),
        organizations=[organization_id],
        actor_email=email,
        target=(client.display_name if client is not None else summary)[:254],
        request=request,
        detail={"summary": summary[:300], **detail},
    )
    return row
