"""Who may use the portal: grants per client, invitations, revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.models import PortalAccount, PortalInvitation
from portal.tokens import looks_like_token, token_hash

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
    from portal.models import PortalGrant

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
