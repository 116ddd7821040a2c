"""The ledger in the Django admin, to look: platform superusers see every firm's
rows, a firm's admins their own (advisoros.admin_site.FirmAdmin). Trial balances
change through the import or the QuickBooks sync, whose service checks them
(reports.services.trial_balance_record)."""

from __future__ import annotations

from django.contrib import admin

from advisoros.admin_site import FirmAdmin
from reports.models import (
    LedgerAccount,
    StatementOutput,
    StatementSchedule,
    StatementTemplate,
    TrialBalance,
)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(FirmAdmin):
    list_display = ["number", "name", "account_type", "client", "external_id"]
    list_filter = ["account_type"]
    search_fields = ["name", "number", "external_id", "client__display_name"]
    list_select_related = ["client"]
    raw_id_fields = ["organization", "client"]


@admin.register(TrialBalance)
class TrialBalanceAdmin(FirmAdmin):
    list_display = ["period_end", "client", "source", "total_debit", "total_credit"]
    list_filter = ["source"]
    search_fields = ["client__display_name", "client__client_code"]
    list_select_related = ["client"]
    raw_id_fields = ["organization", "client", "recorded_by"]
    exclude = ["raw"]


@admin.register(StatementTemplate)
class StatementTemplateAdmin(FirmAdmin):
    list_display = ["title", "client", "show_account_numbers", "branded"]
    search_fields = ["title", "client__display_name"]
    list_select_related = ["client"]
    raw_id_fields = ["organization", "client"]


@admin.register(StatementOutput)
class StatementOutputAdmin(FirmAdmin):
    list_display = ["client", "kind", "period_end", "format", "status", "created_at"]
    list_filter = ["status", "format", "kind"]
    search_fields = ["client__display_name", "client__client_code"]
    list_select_related = ["client"]
    raw_id_fields = [
        "organization",
        "client",
        "template",
        "created_by",
        "schedule",
        "document",
    ]


@admin.register(StatementSchedule)
class StatementScheduleAdmin(FirmAdmin):
    list_display = ["client", "frequency", "share_to_portal", "is_active"]
    list_filter = ["frequency", "is_active"]
    search_fields = ["client__display_name", "client__client_code"]
    list_select_related = ["client"]
    raw_id_fields = ["organization", "client", "created_by"]
