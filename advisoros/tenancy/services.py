"""Writes about firms: creating one, inviting people, changing who may do what."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from advisoros.accounts.models import User, normalize_email
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import (
    AccessReview,
    Invitation,
    Membership,
    Organization,
    Role,
)
from advisoros.tenancy.plans import (
    MEMBERS,
    plan_limit_check,
    platform_billing_on,
    subscription_trial_start,
)
from advisoros.tenancy.tasks import enqueue_for_organization

RESERVED_SLUGS = {"admin", "accounts", "static", "media", "api", "o", "new", "www"}


def slug_suggest(name: str) -> str:
    """A free, readable web address for a new firm."""
    base = slugify(name)[:40] or "firm"
    if base in RESERVED_SLUGS:
        base = f"{base}-firm"
    slug, n = base, 2
    while Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organization_create(
    *, name: str, slug: str, owner: User, request: HttpRequest | None = None
) -> Organization:
    """A new firm with `owner` as its first owner."""
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": "This address is reserved. Choose another."})
    organization = Organization(name=name.strip(), slug=slug)
    organization.full_clean()
    organization.save()
    with tenant_context(organization, user_id=owner.pk):
        Membership.objects.create(
            organization=organization, user=owner, role=Role.OWNER
        )
        if platform_billing_on():
            subscription_trial_start(organization=organization)
    audit_event_record(
        action=AuditAction.FIRM_CREATED,
        organizations=[organization],
        actor=owner,
        target=name,
        request=request,
    )
    return organization


# Invitations -----------------------------------------------------------------


def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: Role,
    invited_by: User | None,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite someone by email (or send the open invitation again, with the new role)."""
    email = normalize_email(email)
    # invited_by None: the platform invites (a support command), which may invite an owner.
    if invited_by is not None:
        inviter = Membership.objects.get(organization=organization, user=invited_by)
        if role == Role.OWNER and not inviter.has_role(Role.OWNER):
            raise ValidationError({"role": "Only an owner can invite another owner."})
    if Membership.objects.filter(
        organization=organization, user__email__iexact=email, is_active=True
    ).exists():
        raise ValidationError(
            {"email": f"{email} is already a member of {organization.name}."}
        )
    expires_at = timezone.now() + settings.INVITATION_MAX_AGE
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(
                organization=organization,
                email__iexact=email,
                accepted_at=None,
                revoked_at=None,
            )
            .first()
        )
        # A seat of the plan: an open invitation already holds one.
        holds_seat = invitation is not None and invitation.expires_at > timezone.now()
        plan_limit_check(organization, MEMBERS, adding=0 if holds_seat else 1)
        if invitation is None:
            invitation = Invitation(organization=organization, email=email)
        invitation.role = role
        invitation.invited_by = invited_by
        invitation.expires_at = expires_at
        invitation.full_clean()
        invitation.save()
        audit_event_record(
            action=AuditAction.INVITATION_SENT,
            organizations=[organization],
            actor=invited_by,
            target=email,
            request=request,
            detail={"role": role.value},
        )
        enqueue_for_organization(
            "advisoros.tenancy.tasks.invitation_send_email",
            organization,
            invitation_id=invitation.pk,
        )
    return invitation


def invitation_revoke(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_event_record(
        action=AuditAction.INVITATION_REVOKED,
        organizations=[invitation.organization_id],
        actor=by,
        target=invitation.email,
        request=request,
    )


class InvitationUnavailable(Exception):
    """The link was used, revoked or has expired."""


@transaction.atomic
def invitation_accept(
    *, invitation_id: int, user: User, request: HttpRequest | None = None
) -> Membership:
    """Join the firm. Single use: the row is locked and marked accepted."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
    if invitation.accepted_at is not None:
        raise InvitationUnavailable("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationUnavailable("This invitation was withdrawn by the firm.")
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable(
            "This invitation has expired. Ask the firm to send a new one."
        )
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise InvitationUnavailable(f"This invitation is for {invitation.email}.")
    already = Membership.objects.filter(
        organization_id=invitation.organization_id, user=user, is_active=True
    ).exists()
    if not already:
        # The invitation held its seat: joining adds none, unless the plan
        # shrank meanwhile (ValidationError, code "plan_limit").
        plan_limit_check(invitation.organization, MEMBERS, adding=0)
    membership, created = Membership.objects.get_or_create(
        organization_id=invitation.organization_id,
        user=user,
        defaults={"role": invitation.role},
    )
    if not created:
        membership.role = invitation.role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_event_record(
        action=AuditAction.INVITATION_ACCEPTED,
        organizations=[invitation.organization_id],
        actor=user,
        target=invitation.email,
        request=request,
        detail={"role": invitation.role},
    )
    return membership


# Roles and deactivation --------------------------------------------------------


def _other_active_owners(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            organization_id=membership.organization_id, role=Role.OWNER, is_active=True
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def _lock_owners(membership: Membership) -> None:
    """Lock the firm's owner rows and re-read `membership`, so two admins acting at
    once cannot each demote or deactivate "the other" last owner."""
    list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    membership.refresh_from_db()


def _check_may_manage(
    actor: Membership, target: Membership, new_role: Role | None = None
) -> None:
    if not actor.has_role(Role.ADMIN):
        raise ValidationError("Only owners and admins manage members.")
    touches_owner = target.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and not actor.has_role(Role.OWNER):
        raise ValidationError(
            "Only an owner can change an owner or make someone an owner."
        )


@transaction.atomic
def membership_change_role(
    *,
    membership: Membership,
    role: Role,
    actor: Membership,
    request: HttpRequest | None = None,
) -> Membership:
    _lock_owners(membership)
    _check_may_manage(actor, membership, role)
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not _other_active_owners(membership)
    ):
        raise ValidationError(
            "A firm needs at least one owner: make someone else an owner first."
        )
    old = membership.role
    if old == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_event_record(
        action=AuditAction.ROLE_CHANGED,
        organizations=[membership.organization_id],
        actor=actor.user,
        target_user=membership.user,
        request=request,
        detail={"from": old, "to": role.value},
    )
    return membership


@transaction.atomic
def membership_set_active(
    *,
    membership: Membership,
    active: bool,
    actor: Membership,
    request: HttpRequest | None = None,
) -> Membership:
    _lock_owners(membership)
    _check_may_manage(actor, membership)
    if (
        not active
        and membership.role == Role.OWNER
        and not _other_active_owners(membership)
    ):
        raise ValidationError("The last owner cannot be deactivated.")
    if membership.is_active == active:
        return membership
    if active:
        plan_limit_check(membership.organization, MEMBERS)
    membership.is_active = active
    membership.save(update_fields=["is_active", "updated_at"])
    audit_event_record(
        action=AuditAction.MEMBER_REACTIVATED
        if active
        else AuditAction.MEMBER_DEACTIVATED,
        organizations=[membership.organization_id],
        actor=actor.user,
        target_user=membership.user,
        request=request,
    )
    return membership


def organization_update_settings(
    *,
    organization: Organization,
    changed: list[str],
    actor: User,
    request: HttpRequest | None = None,
) -> None:
    organization.full_clean()
    organization.save()
    audit_event_record(
        action=AuditAction.FIRM_SETTINGS_CHANGED,
        organizations=[organization],
        actor=actor,
        request=request,
        detail={"fields": changed},
    )


# Safeguards ------------------------------------------------------------------


def access_review_record(
    *, organization: Organization, by: User, request: HttpRequest | None = None
) -> AccessReview:
    """An owner's record that they reviewed who has access (and an audit event)."""
    with transaction.atomic():
        review = AccessReview.objects.create(organization=organization, reviewed_by=by)
        members = Membership.objects.filter(
            organization=organization, is_active=True
        ).count()
        audit_event_record(
            action=AuditAction.ACCESS_REVIEWED,
            organizations=[organization],
            actor=by,
            target=organization.name,
            request=request,
            detail={"active_members": members},
        )
    return review
