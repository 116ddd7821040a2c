from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from advisoros.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Platform superusers only: people span firms, so no firm admin manages them here."""

    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
    ]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        ("Platform access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "password1", "password2"],
            },
        )
    ]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff", "is_superuser"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = lambda self, request, obj=None: (
        request.user.is_superuser
    )  # noqa: E731
    has_change_permission = has_delete_permission = has_view_permission
