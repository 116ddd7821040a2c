"""Request links: one document request, no password, a few days.

A link is made for one contact of the request's client and emailed to them (or
copied by staff and sent another way). Its token is shown once; the row keeps
the SHA-256. It opens only its own request's items, until it expires (the
firm's `portal_link_days`), staff revoke it, the request closes, or the
contact stops being a contact of the client or loses portal access to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.models import Organization
from clients.models import ClientContact, Contact
from documents.models import DocumentRequest
from portal.models import PortalGrant, RequestLink
from portal.tokens import looks_like_token, new_token, token_hash

# Redemption attempts (right or wrong) per address and firm, per window.
LINK_ATTEMPTS_PER_WINDOW = 30
LINK_WINDOW_SECONDS = 10 * 60


@dataclass(frozen=True)
class LinkCheck:
    """What a token is: a usable link, or why not (`reason` for the page)."""

    link: RequestLink | None
    reason: str = ""  # "", "unknown", "expired", "revoked", "closed", "no_access"

    @property
    def ok(self) -> bool:
        return self.link is not None and not self.reason


REFUSALS = {
    "unknown": "This link is not valid. Check that you opened the whole link from "
    "the email, or ask the firm for a new one.",
    "expired": "This link has expired. Ask the firm to send you a new one, or sign "
    "in to the portal.",
    "revoked": "This link was withdrawn by the firm. Ask them for a new one, or "
    "sign in to the portal.",
    "closed": "This request is closed: nothing more is needed for it.",
    "no_access": "This link no longer opens the request. Ask the firm for help.",
    "limited": "Too many attempts from your connection. Wait a few minutes and try "
    "again.",
}


def request_link_url(organization: Organization, token: str) -> str:
    path = reverse(
        "portal:link", kwargs={"org_slug": organization.slug, "token": token}
    )
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def request_link_create(
    *,
    request: DocumentRequest,
    contact: Contact,
    created_by: User | None,
    ip_address: str | None = None,
) -> tuple[RequestLink, str]:
    """A new link for `contact` to `request`; returns it and its token (shown once)."""
    if request.status != DocumentRequest.Status.OPEN:
        raise ValidationError("This request is closed: it needs no link.")
    if not ClientContact.objects.filter(
        client_id=request.client_id, contact=contact
    ).exists():
        raise ValidationError("Choose a contact of this client.")
    if PortalGrant.objects.filter(
        client_id=request.client_id, contact=contact, revoked_at__isnull=False
    ).exists():
        raise ValidationError(
            f"{contact.full_name}'s portal access to this client was revoked."
        )
    organization = request.organization
    token = new_token()
    link = RequestLink.objects.create(
        organization_id=request.organization_id,
        request=request,
        contact=contact,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(days=organization.portal_link_days),
        created_by=created_by,
    )
    audit_event_record(
        action=AuditAction.PORTAL_LINK_CREATED,
        organizations=[request.organization_id],
        actor=created_by,
        target=f"{request.title} ({contact.full_name})"[:254],
        ip_address=ip_address,
        detail={"request": str(request.uuid), "contact": str(contact.uuid)},
    )
    return link, token


def request_link_check(token: str, *, organization: Organization) -> LinkCheck:
    """What the token opens, in this firm (read-only: a GET may call it)."""
    if not looks_like_token(token):
        return LinkCheck(None, "unknown")
    link = (
        RequestLink.objects.filter(
            organization=organization, token_hash=token_hash(token)
        )
        .select_related("request", "request__client", "contact")
        .first()
    )
    if link is None:
        return LinkCheck(None, "unknown")
    if link.revoked_at is not None:
        return LinkCheck(link, "revoked")
    if link.expires_at <= timezone.now():
        return LinkCheck(link, "expired")
    if link.request.status != DocumentRequest.Status.OPEN:
        return LinkCheck(link, "closed")
    still_contact = ClientContact.objects.filter(
        client_id=link.request.client_id, contact_id=link.contact_id
    ).exists()
    revoked_grant = PortalGrant.objects.filter(
        client_id=link.request.client_id,
        contact_id=link.contact_id,
        revoked_at__isnull=False,
    ).exists()
    if not still_contact or revoked_grant:
        return LinkCheck(link, "no_access")
    return LinkCheck(link)


def link_attempt_allowed(organization_id: int, ip: str | None) -> bool:
    """Counts one attempt; False once this address passed the window's limit."""
    key = f"portal:link-attempts:{organization_id}:{ip or '-'}"
    if cache.add(key, 1, LINK_WINDOW_SECONDS):
        return True
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, LINK_WINDOW_SECONDS)
        count = 1
    return count <= LINK_ATTEMPTS_PER_WINDOW


def request_link_redeem(link: RequestLink) -> RequestLink:
    """Record a use (the POST from the Continue page)."""
    now = timezone.now()
    RequestLink.objects.filter(pk=link.pk).update(
        use_count=F("use_count") + 1,
        last_used_at=now,
        first_used_at=link.first_used_at or now,
    )
    link.refresh_from_db(fields=["use_count", "last_used_at", "first_used_at"])
    return link


@transaction.atomic
def request_links_revoke(
    *,
    request: DocumentRequest | None = None,
    contact: Contact | None = None,
    client_id: int | None = None,
    revoked_by: User | None,
    ip_address: str | None = None,
) -> int:
    """Withdraw the open links of a request, or of a contact (for one client)."""
    links = RequestLink.objects.filter(revoked_at__isnull=True)
    if request is not None:
        links = links.filter(request=request)
    if contact is not None:
        links = links.filter(contact=contact)
    if client_id is not None:
        links = links.filter(request__client_id=client_id)
    organization_id = (
        request.organization_id if request is not None else contact.organization_id
    )
    count = links.update(revoked_at=timezone.now(), revoked_by=revoked_by)
    if count:
        audit_event_record(
            action=AuditAction.PORTAL_LINK_REVOKED,
            organizations=[organization_id],
            actor=revoked_by,
            target=(request.title if request is not None else contact.full_name)[:254],
            ip_address=ip_address,
            detail={
                "count": count,
                **({"request": str(request.uuid)} if request is not None else {}),
                **({"contact": str(contact.uuid)} if contact is not None else {}),
            },
        )
    return count
