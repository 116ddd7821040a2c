"""Firm pages: dashboard, members and invitations, settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from advisoros.accounts.middleware import idle_timeout_refresh
from advisoros.audit.models import AuditEvent
from advisoros.forms import error_text, form_error_text
from advisoros.nav import declared_dashboard_links
from advisoros.tenancy import services
from advisoros.tenancy.branding import brand_palette, logo_version
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.forms import InvitationForm, OrganizationSettingsForm, RoleForm
from advisoros.tenancy.models import Invitation, Membership, Role
from advisoros.tenancy.replica import reads_from_replica
from advisoros.tenancy.request import OrgRequest
from advisoros.tenancy.selectors import user_memberships


def _get_membership(request: OrgRequest, member_uuid) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"),
        organization=request.organization,
        uuid=member_uuid,
    )


def _get_invitation(request: OrgRequest, invitation_uuid) -> Invitation:
    return get_object_or_404(
        Invitation, organization=request.organization, uuid=invitation_uuid
    )


@reads_from_replica
@require_role(Role.READONLY)
def dashboard(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    counts = Membership.objects.filter(organization=org).aggregate(
        active=Count("pk", filter=Q(is_active=True)),
        owners=Count("pk", filter=Q(is_active=True, role=Role.OWNER)),
    )
    ctx = {
        "member_count": counts["active"],
        "open_invitations": Invitation.objects.filter(
            organization=org,
            accepted_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        ).count(),
        "recent_events": (
            AuditEvent.objects.filter(organization=org).select_related("actor")[:6]
            if request.membership.has_role(Role.ADMIN)
            else []
        ),
        "two_factor_on": request.user.is_verified(),
        # Each app's buttons for the "Your work" panel (no query).
        "work_links": declared_dashboard_links(),
        # The apps' panels (slot "dashboard") make their own queries while the
        # template renders, each named in the app's panels module.
    }
    return render(request, "tenancy/dashboard.html", ctx)


@require_role(Role.READONLY)
def members(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    can_manage = request.membership.has_role(Role.ADMIN)
    is_owner = request.membership.has_role(Role.OWNER)
    form = InvitationForm(can_grant_owner=is_owner)
    ctx = {
        # Query 1: every member with their user, in one join.
        "memberships": Membership.objects.filter(organization=org)
        .select_related("user")
        .order_by("-is_active", "user__name", "user__email"),
        # Query 2: open invitations with who sent them.
        "invitations": Invitation.objects.filter(
            organization=org, accepted_at=None, revoked_at=None
        ).select_related("invited_by"),
        "can_manage": can_manage,
        "is_owner": is_owner,
        "form": form,
        "roles": Role.choices,
    }
    return render(request, "tenancy/members.html", ctx)


@require_POST
@require_role(Role.ADMIN)
def invitation_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = InvitationForm(
        request.POST, can_grant_owner=request.membership.has_role(Role.OWNER)
    )
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                organization=request.organization,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
                invited_by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
    else:
        messages.error(request, form_error_text(form))
    return redirect("tenancy:members", org_slug=request.organization.slug)


@require_POST
@require_role(Role.ADMIN)
def invitation_revoke(
    request: OrgRequest, org_slug: str, invitation_uuid
) -> HttpResponse:
    invitation = _get_invitation(request, invitation_uuid)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        services.invitation_revoke(
            invitation=invitation, by=request.user, request=request
        )
        messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return redirect("tenancy:members", org_slug=request.organization.slug)


@require_POST
@require_role(Role.ADMIN)
def member_role(request: OrgRequest, org_slug: str, member_uuid) -> HttpResponse:
    membership = _get_membership(request, member_uuid)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                membership=membership,
                role=Role(form.cleaned_data["role"]),
                actor=request.membership,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, f"{membership.user} is now {membership.get_role_display()}."
            )
    else:
        messages.error(request, form_error_text(form))
    return redirect("tenancy:members", org_slug=request.organization.slug)


@require_POST
@require_role(Role.ADMIN)
def member_active(request: OrgRequest, org_slug: str, member_uuid) -> HttpResponse:
    membership = _get_membership(request, member_uuid)
    active = request.POST.get("active") == "1"
    try:
        services.membership_set_active(
            membership=membership,
            active=active,
            actor=request.membership,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        verb = "reactivated" if active else "deactivated"
        messages.success(request, f"{membership.user} {verb}.")
    return redirect("tenancy:members", org_slug=request.organization.slug)


@require_role(Role.ADMIN)
def firm_settings(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    previous_logo = org.logo.name
    saved_colour = org.brand_color  # before the form writes its own to the instance
    form = OrganizationSettingsForm(
        request.POST or None, request.FILES or None, instance=org
    )
    if request.method == "POST" and form.is_valid():
        changed = _logo_apply(form)
        if changed:
            with transaction.atomic():
                services.organization_update_settings(
                    organization=form.instance,
                    changed=changed,
                    actor=request.user,
                    request=request,
                )
                if previous_logo and previous_logo != form.instance.logo.name:
                    # The old file goes once the new name is committed (a rollback
                    # keeps the row pointing at a file that still exists).
                    storage = form.instance.logo.storage
                    transaction.on_commit(lambda: storage.delete(previous_logo))
            idle_timeout_refresh(request, list(user_memberships(request.user.pk)))
        messages.success(request, "Settings saved.")
        return redirect("tenancy:settings", org_slug=org.slug)
    ctx = {
        "form": form,
        # The saved colour as the portal shows it (an unsaved one may be invalid).
        "palette": brand_palette(saved_colour),
        "logo_version": logo_version(org) if previous_logo else "",
    }
    return render(request, "tenancy/settings.html", ctx)


def _logo_apply(form: OrganizationSettingsForm) -> list[str]:
    """Put a new logo (checked by the form) on the firm, or take it off; returns
    the changed fields for the audit log. A new file is written to the store
    here, with a fresh name; the row points at it once the settings are saved."""
    changed = [f for f in form.changed_data if f not in ("logo", "remove_logo")]
    org = form.instance
    logo = form.cleaned_data.get("logo")
    if logo:
        org.logo.save("logo", logo, save=False)
        changed.append("logo")
    elif form.cleaned_data.get("remove_logo") and org.logo:
        org.logo = ""
        changed.append("logo")
    return changed
