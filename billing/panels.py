"""Billing's panels on the lower apps' pages (advisoros/panels.py): time and
budget on the engagement page and on the task page.

Each panel is a placeholder that htmx fills from billing.views.budgets once the
page is there, so the pages keep their own query counts; the context functions
make no query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from advisoros.panels import register_panel
from clients.models import Engagement
from workflows.models import Task


def engagement_time_context(
    request: HttpRequest, engagement: Engagement
) -> dict[str, Any] | None:
    return {"organization": request.organization, "engagement": engagement}


def task_time_context(request: HttpRequest, task: Task) -> dict[str, Any] | None:
    return {"organization": request.organization, "task": task}


register_panel(
    "engagement_detail",
    template="billing/panels/engagement_time.html",
    context=engagement_time_context,
)
register_panel(
    "task_detail",
    template="billing/panels/task_time.html",
    context=task_time_context,
)
