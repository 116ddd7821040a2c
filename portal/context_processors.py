"""`portal` in every template: who is in the portal on this request (or None)."""

from __future__ import annotations


def portal(request) -> dict:
    return {"portal": getattr(request, "portal", None)}
