"""The billing app's navigation entries (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry


def _is_report_page(name: str) -> bool:
    return name.startswith("report_")


NAV = [
    NavEntry(
        "money_reports",
        "Money reports",
        "billing:report_wip",
        order=440,
        current=_is_report_page,
    ),
]
