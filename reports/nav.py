"""The reports app's navigation entry (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry

NAV = [
    NavEntry(
        "financial_reports",
        "Financial statements",
        "reports:ledger_index",
        order=510,
        # Every page of the app: the index, a client's ledger, its imports and
        # statements.
        current=lambda name: True,
    ),
]
