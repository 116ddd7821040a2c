"""Authentication helpers."""

from __future__ import annotations


def axes_username(request, credentials) -> str:
    """Lockouts count per email whatever its case (AXES_USERNAME_CALLABLE)."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return value.strip().lower()
