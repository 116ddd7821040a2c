"""The audit app's navigation entry (advisoros/nav.py collects it)."""

from __future__ import annotations

from advisoros.nav import NavEntry

NAV = [
    NavEntry(
        "audit",
        "Audit log",
        "audit:log",
        order=60,
        section="settings",
        admin_only=True,
        current=lambda name: name in ("log", "export"),
    ),
    NavEntry(
        "audit_integrity",
        "Audit integrity",
        "audit:integrity",
        order=61,
        section="settings",
        owner_only=True,
        current=lambda name: name in ("integrity", "checkpoint"),
    ),
]
