"""The QuickBooks connection page in the firm's settings (advisoros/nav.py collects it)."""

from __future__ import annotations

from advisoros.nav import NavEntry

NAV = [
    NavEntry(
        "quickbooks",
        "QuickBooks",
        "quickbooks:connection",
        order=47,
        section="settings",
        admin_only=True,
    ),
]
