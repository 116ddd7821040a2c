"""Django admin for two audiences.

Platform superusers see every firm: the tenancy middleware runs their admin
requests under the platform bypass. A firm's owners and admins see only their
own firm (the one they last opened): the middleware runs their requests in that
firm's context, so the scoped managers and RLS limit every list and choice,
and `FirmAdmin` filters explicitly on top.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from advisoros.tenancy.models import Role


def is_firm_admin(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_role(Role.ADMIN)


class AdvisorAdminSite(admin.AdminSite):
    site_header = "AdvisorOS administration"
    # The index links the platform operations page for superusers.
    index_template = "admin/advisoros_index.html"
    site_title = "AdvisorOS admin"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_authenticated
            and (user.is_superuser or is_firm_admin(request))
        )

    def get_urls(self):
        from django.urls import path

        from advisoros.ops.views import platform_ops

        def ops(request):
            return platform_ops(request, site_context=self.each_context(request))

        # Platform superusers only; 404 for everyone else (advisoros.ops.views).
        return [path("ops/", ops, name="platform_ops"), *super().get_urls()]

    def login(self, request, extra_context=None):
        # One sign-in for everyone, with two-factor and lockout.
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))


class FirmAdmin(admin.ModelAdmin):
    """A tenant model's admin: superusers see all, firm admins their firm only."""

    firm_can_change = False
    firm_readonly_fields: tuple[str, ...] = ()

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or is_firm_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or (
            self.firm_can_change and is_firm_admin(request)
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return self.firm_readonly_fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.organization_lookup: request.organization.pk})

    organization_lookup = "organization"
