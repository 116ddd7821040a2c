"""Billing's recurring-invoice panel on the engagement page (advisoros/panels.py).

A placeholder that htmx fills from billing.views.recurring.engagement_recurring
once the page is there, so the engagement page keeps its own query count; the
context function makes no query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from advisoros.panels import register_panel
from clients.models import Engagement


def engagement_recurring_context(
    request: HttpRequest, engagement: Engagement
) -> dict[str, Any] | None:
    return {"organization": request.organization, "engagement": engagement}


register_panel(
    "engagement_detail",
    template="billing/panels/engagement_recurring.html",
    context=engagement_recurring_context,
)
