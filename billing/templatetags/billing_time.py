"""Time as the time pages show it: `{{ minutes|hm }}` (90 -> 1:30) and
`{{ seconds|clock }}` (5430 -> 1:30:30, the running timer)."""

from __future__ import annotations

from django import template

from billing.forms_time import minutes_text

register = template.Library()


@register.filter
def hm(minutes: int | None) -> str:
    return minutes_text(minutes)


@register.filter
def clock(seconds: int | None) -> str:
    seconds = seconds or 0
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
