"""The billing app's navigation entries (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry


def _is_recurring_page(name: str) -> bool:
    return name.startswith("recurring_")


def _is_report_page(name: str) -> bool:
    return name.startswith("report_")


NAV = [
    NavEntry(
        "recurring_invoices",
        "Recurring invoices",
        "billing:recurring_list",
        order=425,
        current=_is_recurring_page,
    ),
    NavEntry(
        "money_reports",
        "Money reports",
        "billing:report_wip",
        order=440,
        current=_is_report_page,
    ),
]
