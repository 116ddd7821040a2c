"""The Stripe connection page in the firm's settings (advisoros/nav.py collects it)."""

from __future__ import annotations

from advisoros.nav import NavEntry

NAV = [
    NavEntry(
        "stripe",
        "Online payments",
        "stripe:connection",
        order=45,
        section="settings",
        admin_only=True,
    ),
]
