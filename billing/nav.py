"""The billing app's navigation entries (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry

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
        "billing_rates",
        "Rates and capacity",
        "billing:rates",
        order=45,
        section="settings",
        admin_only=True,
    ),
]
