"""The portal's navigation entries on firm pages (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry


def _is_messages_page(name: str) -> bool:
    """The inbox and each client's thread."""
    return name in {"inbox", "thread"}


NAV = [
    NavEntry(
        "messages",
        "Messages",
        "portal_staff:inbox",
        order=400,
        current=_is_messages_page,
    ),
]
