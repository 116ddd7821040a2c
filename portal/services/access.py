"""Who may use the portal: grants per client, invitations, revocation.

Members with the manager role or above change a contact's access (grant,
revoke, invite): access is a decision about the firm's clients, like assigning
them, which staff members do not make. Every change is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.email import absolute_url, branded_email
from advisoros.http import client_ip
from advisoros.tenancy.models import Role
from clients.models import Client, ClientContact, Contact
from portal.models import Capability, PortalAccount, PortalGrant, PortalInvitation
from portal.services.links import request_links_revoke
from portal.tokens import looks_like_token, new_token, token_hash

# Who may grant, revoke and invite (the pages show the rest of the firm the state).
MANAGE_ROLE = Role.MANAGER

INVITATION_DAYS = 14

INVITATION_REFUSALS = {
    "unknown": "This invitation link is not valid. Check that you opened the whole "
    "link from the email, or ask the firm to invite you again.",
    "used": "This invitation was already used. Sign in with your email address: "
    "you can have a code emailed to you.",
    "expired": "This invitation has expired. Ask the firm to invite you again.",
    "revoked": "This invitation was withdrawn by the firm.",
    "no_access": "Your access to this portal has ended. Ask the firm for help.",
}


@dataclass(frozen=True)
class InvitationCheck:
    invitation: PortalInvitation | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.invitation is not None and not self.reason


def portal_invitation_check(token: str, *, organization) -> InvitationCheck:
    if not looks_like_token(token):
        return InvitationCheck(None, "unknown")
    invitation = (
        PortalInvitation.objects.filter(
            organization=organization, token_hash=token_hash(token)
        )
        .select_related("contact")
        .first()
    )
    if invitation is None:
        return InvitationCheck(None, "unknown")
    if invitation.revoked_at is not None:
        return InvitationCheck(invitation, "revoked")
    if invitation.used_at is not None:
        return InvitationCheck(invitation, "used")
    if invitation.expires_at <= timezone.now():
        return InvitationCheck(invitation, "expired")
    if (
        not invitation.contact.email
        or not PortalGrant.objects.filter(
            contact=invitation.contact, revoked_at__isnull=True
        ).exists()
    ):
        return InvitationCheck(invitation, "no_access")
    return InvitationCheck(invitation)


@transaction.atomic
def portal_invitation_redeem(invitation: PortalInvitation) -> PortalAccount:
    """Use the invitation (once) and return the person's account, made if new."""
    locked = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.used_at is None:
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at", "updated_at"])
    email = invitation.contact.email.strip().lower()
    account = PortalAccount.objects.filter(email=email).first()
    if account is None:
        account = PortalAccount.objects.create(email=email)
    return account


def invitation_expiry():
    return timezone.now() + timedelta(days=INVITATION_DAYS)


# Staff side: reads ------------------------------------------------------------------

# What a grant row shows: whole clients would decrypt each tax id.
GRANT_COLUMNS = (
    "uuid",
    "organization_id",
    "contact_id",
    "client",
    "revoked_at",
    "updated_at",
    *Capability.values,
    "client__uuid",
    "client__organization_id",
    "client__display_name",
)


def contact_grants(contact: Contact, clients: QuerySet[Client]) -> list[PortalGrant]:
    """The contact's grants (active and revoked) on `clients`, by client name (one query)."""
    return list(
        PortalGrant.objects.filter(
            organization_id=contact.organization_id,
            contact=contact,
            client__in=clients,
        )
        .select_related("client")
        .only(*GRANT_COLUMNS)
        .order_by("client__sort_name", "client_id")
    )


def contact_account(contact: Contact) -> PortalAccount | None:
    """The portal account with the contact's email, if the person has one (one
    query; none without an email). Accounts are shared across firms: only its
    sign-in facts are shown, never the other firms."""
    email = (contact.email or "").strip().lower()
    if not email:
        return None
    return (
        PortalAccount.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=email)
        .only("email", "password", "totp_confirmed_at", "is_active", "last_login_at")
        .first()
    )


# Staff side: grants, revocation, invitations ----------------------------------------


@transaction.atomic
def portal_grant_set(
    *,
    contact: Contact,
    client: Client,
    capabilities: dict[str, bool],
    granted_by: User | None,
    request: HttpRequest | None = None,
) -> PortalGrant:
    """Give `contact` portal access to `client` with these capabilities (a
    capability left out keeps its value, or its default on a new grant). Granting
    again after a revocation restores the access."""
    if contact.organization_id != client.organization_id or not (
        ClientContact.objects.filter(client=client, contact=contact).exists()
    ):
        raise ValidationError(
            f"{contact.full_name} is not a contact of {client.display_name}."
        )
    if not contact.email:
        raise ValidationError(
            f"{contact.full_name} has no email address: add one to give portal access."
        )
    unknown = set(capabilities) - set(Capability.values)
    if unknown:
        raise ValidationError(f"Unknown capabilities: {', '.join(sorted(unknown))}.")
    grant, created = PortalGrant.objects.select_for_update().get_or_create(
        contact=contact,
        client=client,
        defaults={"organization_id": client.organization_id},
    )
    for name, allowed in capabilities.items():
        setattr(grant, name, bool(allowed))
    if not grant.capability_labels:
        raise ValidationError(
            "Tick at least one thing the contact may do, or revoke the access."
        )
    restored = grant.revoked_at is not None
    grant.revoked_at = None
    grant.revoked_by = None
    grant.granted_by = granted_by
    grant.full_clean()
    grant.save()
    audit_event_record(
        action=AuditAction.PORTAL_ACCESS_GRANTED,
        organizations=[client.organization_id],
        actor=granted_by,
        target=f"{contact.full_name} ({client.display_name})"[:254],
        request=request,
        detail={
            "contact": str(contact.uuid),
            "client": str(client.uuid),
            "capabilities": {c.value: getattr(grant, c.value) for c in Capability},
            "new": created,
            "restored": restored,
        },
    )
    return grant


@transaction.atomic
def portal_grant_revoke(
    *, grant: PortalGrant, revoked_by: User | None, request: HttpRequest | None = None
) -> PortalGrant:
    """End `grant`: its contact's next click in the portal no longer sees the
    client (the session reads grants on every request), and their open request
    links for the client stop working. With no access left, open invitations go too."""
    grant = (
        PortalGrant.objects.select_for_update()
        .select_related("contact", "client")
        .get(pk=grant.pk)
    )
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = timezone.now()
    grant.revoked_by = revoked_by
    grant.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    contact, client = grant.contact, grant.client
    links = request_links_revoke(
        contact=contact,
        client_id=client.pk,
        revoked_by=revoked_by,
        ip_address=client_ip(request) if request is not None else None,
    )
    invitations = 0
    if not PortalGrant.objects.filter(
        contact=contact, revoked_at__isnull=True
    ).exists():
        invitations = _open_invitations(contact).update(revoked_at=grant.revoked_at)
    audit_event_record(
        action=AuditAction.PORTAL_ACCESS_REVOKED,
        organizations=[grant.organization_id],
        actor=revoked_by,
        target=f"{contact.full_name} ({client.display_name})"[:254],
        request=request,
        detail={
            "contact": str(contact.uuid),
            "client": str(client.uuid),
            "links_revoked": links,
            "invitations_revoked": invitations,
        },
    )
    return grant


def _open_invitations(contact: Contact):
    return PortalInvitation.objects.filter(
        contact=contact, used_at__isnull=True, revoked_at__isnull=True
    )


def portal_invitation_url(organization, token: str) -> str:
    return absolute_url(
        reverse(
            "portal:invitation", kwargs={"org_slug": organization.slug, "token": token}
        )
    )


@transaction.atomic
def portal_invite(
    *, contact: Contact, invited_by: User | None, request: HttpRequest | None = None
) -> PortalInvitation:
    """Email `contact` a welcome link to the portal (used once, INVITATION_DAYS).
    An earlier invitation still open is withdrawn: only the newest email works."""
    if not contact.email:
        raise ValidationError(
            f"{contact.full_name} has no email address to send the invitation to."
        )
    grants = list(
        PortalGrant.objects.filter(contact=contact, revoked_at__isnull=True)
        .select_related("client")
        .order_by("client__sort_name", "client_id")
    )
    if not grants:
        raise ValidationError(
            f"Give {contact.full_name} access to at least one client before inviting."
        )
    now = timezone.now()
    withdrawn = _open_invitations(contact).update(revoked_at=now)
    organization = contact.organization
    token = new_token()
    invitation = PortalInvitation.objects.create(
        organization_id=contact.organization_id,
        contact=contact,
        token_hash=token_hash(token),
        expires_at=invitation_expiry(),
        invited_by=invited_by,
    )
    audit_event_record(
        action=AuditAction.PORTAL_INVITED,
        organizations=[contact.organization_id],
        actor=invited_by,
        target=contact.full_name[:254],
        request=request,
        detail={
            "contact": str(contact.uuid),
            "invitation": str(invitation.uuid),
            "clients": [str(g.client.uuid) for g in grants],
            "earlier_withdrawn": withdrawn,
        },
    )
    url = portal_invitation_url(organization, token)
    # Sent inside the transaction: when the mail server refuses, no invitation
    # is recorded and the member sees the error (and may try again).
    branded_email(
        organization,
        subject=f"{organization.name} invites you to its client portal",
        to=[contact.email],
        text_template="portal/email/invitation.txt",
        context={
            "contact": contact,
            "clients": [g.client.display_name for g in grants],
            "url": url,
            "days": INVITATION_DAYS,
        },
        reply_to=[invited_by.email] if invited_by is not None else None,
        button=("Open your portal", url),
    ).send()
    return invitation
