"""The billing app's navigation entries (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry


def _is_invoice_page(name: str) -> bool:
    """The list, a new draft, an invoice's page, its lines, PDF and actions."""
    return name.startswith("invoice") or name == "payment_refund"


def _is_recurring_page(name: str) -> bool:
    return name.startswith("recurring_")


def _is_report_page(name: str) -> bool:
    return name.startswith("report_")


# The timesheet and an entry's page mark "Time"; the rates page its own entry.
_TIME_PAGES = {"timesheet", "entry_edit"}


NAV = [
    NavEntry(
        "time",
        "Time",
        "billing:timesheet",
        order=410,
        current=lambda name: name in _TIME_PAGES,
    ),
    NavEntry(
        "invoices",
        "Invoices",
        "billing:invoice_list",
        order=420,
        current=_is_invoice_page,
    ),
    NavEntry(
        "recurring_invoices",
        "Recurring invoices",
        "billing:recurring_list",
        order=425,
        sub=True,
        current=_is_recurring_page,
    ),
    NavEntry(
        "money_reports",
        "Money reports",
        "billing:report_wip",
        order=440,
        current=_is_report_page,
    ),
    NavEntry(
        "billing_settings",
        "Billing settings",
        "billing:billing_settings",
        order=44,
        section="settings",
        admin_only=True,
    ),
    NavEntry(
        "billing_rates",
        "Rates and capacity",
        "billing:rates",
        order=45,
        section="settings",
        admin_only=True,
    ),
]
