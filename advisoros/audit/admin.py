from __future__ import annotations

from auditlog import get_logentry_model
from django.contrib import admin

from advisoros.admin_site import FirmAdmin
from advisoros.audit.models import AuditEvent, CspReport, LogEntry
from advisoros.audit.privacy import redact_private_changes

if admin.site.is_registered(get_logentry_model()):
    admin.site.unregister(get_logentry_model())


@admin.register(AuditEvent)
class AuditEventAdmin(FirmAdmin):
    list_display = [
        "created_at",
        "action",
        "actor_email",
        "target",
        "ip_address",
        "organization",
    ]
    list_filter = ["action"]
    search_fields = ["actor_email", "target"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        return False  # append-only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LogEntry)
class LogEntryAdmin(FirmAdmin):
    list_display = [
        "timestamp",
        "action",
        "content_type",
        "object_repr",
        "actor_email",
        "organization",
    ]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_email"]
    list_select_related = ["content_type", "organization"]
    date_hierarchy = "timestamp"

    def get_object(self, request, object_id, from_field=None):
        # The change page shows `changes`: a private row's content stays masked.
        entry = super().get_object(request, object_id, from_field)
        if entry is not None:
            redact_private_changes([entry])
        return entry

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CspReport)
class CspReportAdmin(admin.ModelAdmin):
    """Platform staff only (a plain ModelAdmin: firm admins hold no model
    permissions). Read-only: what the browsers said."""

    list_display = [
        "created_at",
        "violated_directive",
        "document_uri",
        "blocked_uri",
        "disposition",
        "ip_address",
    ]
    list_filter = ["violated_directive", "disposition"]
    search_fields = ["document_uri", "blocked_uri", "source_file"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
