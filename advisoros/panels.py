"""Panels that an upper app adds to a lower app's page.

A lower app cannot import the apps built on it, so a page offers named slots and
an upper app registers a panel for a slot once, in its AppConfig.ready:

    from advisoros.panels import register_panel

    register_panel(
        "contact_detail",                   # the slot
        template="portal/panels/contact_access.html",
        context=contact_access_context,     # (request, obj) -> dict | None
    )

The page renders its slot with `{% load panels %}{% panels "contact_detail" contact %}`.
A context function returning None hides its panel (the viewer may not see it);
it keeps the page's query count constant (no query per row).

Panels show in their `order` (then in registration order): a slot where several
apps take part (the firm dashboard) places each app's panel the way it places
navigation entries, a hundred an app in the layer order (advisoros/nav.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    order: int = 0


_slots: dict[str, list[Panel]] = {}


def register_panel(
    slot: str,
    *,
    template: str,
    context: Callable[[HttpRequest, Any], dict[str, Any] | None],
    order: int = 0,
) -> None:
    panel = Panel(template=template, context=context, order=order)
    panels = _slots.setdefault(slot, [])
    if panel not in panels:
        panels.append(panel)
        panels.sort(key=lambda p: p.order)  # stable: ties keep registration order


def panels_for(slot: str) -> list[Panel]:
    return list(_slots.get(slot, ()))
