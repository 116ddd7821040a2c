"""`{% panels "slot" obj %}`: what upper apps registered for this slot (advisoros.panels)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from advisoros.panels import panels_for

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot: str, obj) -> SafeString:
    request = context.get("request")
    parts = []
    for panel in panels_for(slot):
        ctx = panel.context(request, obj)
        if ctx is None:
            continue
        parts.append(render_to_string(panel.template, ctx, request=request))
    return mark_safe("".join(parts))  # noqa: S308 (each part is a rendered template)
