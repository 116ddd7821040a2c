from __future__ import annotations

from django.contrib import admin

from advisoros.admin_site import FirmAdmin
from advisoros.tenancy.models import (
    FirmSubscription,
    Invitation,
    Membership,
    Organization,
    Plan,
)
from advisoros.tenancy.services import organization_update_settings


@admin.register(Organization)
class OrganizationAdmin(FirmAdmin):
    list_display = [
        "name",
        "slug",
        "require_two_factor",
        "session_timeout_minutes",
        "created_at",
    ]
    search_fields = ["name", "slug"]
    firm_can_change = True
    organization_lookup = "pk"
    firm_readonly_fields = ("slug",)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        if not form.changed_data:
            return None
        # The same write as the firm settings page, audit event included.
        return organization_update_settings(
            organization=obj,
            changed=form.changed_data,
            actor=request.user,
            request=request,
        )


@admin.register(Membership)
class MembershipAdmin(FirmAdmin):
    list_display = ["user", "organization", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__email", "user__name", "organization__name"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user", "organization"]
    # Firm admins only look: roles and deactivation go through the members page,
    # whose services keep the owner rules (an admin cannot make anyone an owner,
    # the last owner stays) and record the audit events.
    firm_can_change = False


@admin.register(Invitation)
class InvitationAdmin(FirmAdmin):
    list_display = [
        "email",
        "organization",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    search_fields = ["email"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "invited_by", "accepted_by"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """The hosted service's plans (advisoros.tenancy.plans): platform superusers only."""

    list_display = [
        "name",
        "code",
        "monthly_price",
        "max_members",
        "max_clients",
        "max_storage_gb",
        "trial_days",
        "is_default",
        "is_active",
        "stripe_price_id",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "stripe_price_id"]


@admin.register(FirmSubscription)
class FirmSubscriptionAdmin(FirmAdmin):
    """What Stripe last said of each firm's subscription. Read-only: it changes
    through Stripe (checkout, the customer portal, webhooks), never by hand."""

    list_display = [
        "organization",
        "plan",
        "status",
        "trial_ends_at",
        "current_period_end",
        "problem_since",
    ]
    list_filter = ["status", "plan"]
    search_fields = [
        "organization__name",
        "organization__slug",
        "stripe_customer_id",
        "stripe_subscription_id",
    ]
    list_select_related = ["organization", "plan"]
    raw_id_fields = ["organization"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
