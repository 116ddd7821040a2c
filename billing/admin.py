"""Billing in the Django admin: platform superusers see every firm's rows, a
firm's admins their own (advisoros.admin_site.FirmAdmin), to look. Time and rates
change on the firm's pages, whose services keep the rules (billed time is
read-only, entries keep their rates)."""

from __future__ import annotations

from django.contrib import admin

from advisoros.admin_site import FirmAdmin
from billing.models import BillingSettings, EngagementRate, MemberRate, TimeEntry, Timer


@admin.register(BillingSettings)
class BillingSettingsAdmin(FirmAdmin):
    list_display = [
        "organization",
        "currency",
        "time_increment_minutes",
        "time_rounding",
        "default_billing_rate",
        "next_invoice_number",
    ]
    search_fields = ["organization__name", "organization__slug"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]


@admin.register(MemberRate)
class MemberRateAdmin(FirmAdmin):
    list_display = ["membership", "billing_rate", "cost_rate", "organization"]
    search_fields = ["membership__user__email", "membership__user__name"]
    list_select_related = ["membership__user", "organization"]
    raw_id_fields = ["membership", "organization"]


@admin.register(EngagementRate)
class EngagementRateAdmin(FirmAdmin):
    list_display = ["engagement", "membership", "billing_rate", "organization"]
    search_fields = [
        "engagement__name",
        "engagement__client__display_name",
        "membership__user__email",
    ]
    list_select_related = ["engagement", "membership__user", "organization"]
    raw_id_fields = ["engagement", "membership", "organization"]


@admin.register(TimeEntry)
class TimeEntryAdmin(FirmAdmin):
    list_display = [
        "date",
        "user",
        "client",
        "engagement",
        "minutes",
        "billable",
        "rate",
        "invoice_line",
        "organization",
    ]
    list_filter = ["billable", "date"]
    search_fields = ["client__display_name", "user__email", "user__name", "description"]
    list_select_related = [
        "user",
        "client",
        "engagement",
        "invoice_line",
        "organization",
    ]
    raw_id_fields = [
        "user",
        "client",
        "engagement",
        "task",
        "invoice_line",
        "organization",
    ]
    date_hierarchy = "date"


@admin.register(Timer)
class TimerAdmin(FirmAdmin):
    list_display = ["user", "client", "engagement", "started_at", "organization"]
    search_fields = ["client__display_name", "user__email", "user__name"]
    list_select_related = ["user", "client", "engagement", "organization"]
    raw_id_fields = ["user", "client", "engagement", "task", "organization"]
