"""Budgets against actuals: the time panels of the engagement and task pages.

Both pages belong to lower apps (clients, workflows), which cannot name billing;
billing registers a panel in their slots (billing/panels.py). The panel itself
costs those pages no query: it is a placeholder that htmx fills from these
views once the page is there, as the header's bell and timer are. Without
JavaScript the placeholder is a link to the same view, which then answers a
page of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode

from advisoros.http import get_only
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_time import EngagementRateForm
from billing.models import EngagementRate, TimeEntry
from billing.time_selectors import (
    BUDGET_TASKS_CAP,
    engagement_budget_tasks,
    engagement_minutes,
    task_minutes,
)
from clients.engagement_selectors import active_members
from clients.selectors import visible_engagements
from workflows.selectors import visible_tasks

# The task panel lists the latest entries on the task, this many.
TASK_ENTRIES = 10


@dataclass
class Budget:
    """Budgeted against recorded minutes, for a meter and the words beside it."""

    budgeted: int  # minutes; 0: no budget
    recorded: int

    @property
    def over(self) -> bool:
        return self.budgeted > 0 and self.recorded > self.budgeted

    @property
    def remaining(self) -> int:
        return max(self.budgeted - self.recorded, 0)

    @property
    def over_by(self) -> int:
        return max(self.recorded - self.budgeted, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.recorded / self.budgeted) if self.budgeted else 0

    @property
    def meter_max(self) -> int:
        """The meter's scale: the budget, or what was recorded when more."""
        return max(self.budgeted, self.recorded, 1)


def _minutes_of_hours(hours: Decimal | None) -> int:
    if not hours:
        return 0
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _partial(request: OrgRequest, template: str, ctx: dict) -> HttpResponse:
    """The panel alone for htmx, else the page around it."""
    if request.htmx and not request.htmx.history_restore_request:
        template += "#panel"
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_role(Role.READONLY)
def engagement_time(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    org = request.organization
    # Query: the engagement with its client.
    engagement = get_object_or_404(
        visible_engagements(request).select_related("client"), uuid=engagement_uuid
    )
    if not_allowed := get_only(request):
        return not_allowed
    # Query: recorded minutes by task.
    sums = engagement_minutes(engagement)
    # Query: its tasks with a budget or time.
    tasks = list(engagement_budget_tasks(request, engagement, {k for k in sums if k}))
    shown = set()
    for task in tasks:
        row = sums.get(task.pk) or {}
        task.budget = Budget(task.budgeted_minutes, row.get("recorded") or 0)
        shown.add(task.pk)
    other_tasks = sum(
        row["recorded"] or 0 for key, row in sums.items() if key and key not in shown
    )
    totals = {
        name: sum(row[name] or 0 for row in sums.values())
        for name in ("recorded", "billable_minutes", "unbilled")
    }
    can_set_rates = request.membership.has_role(Role.MANAGER)
    ctx = {
        "engagement": engagement,
        "client": engagement.client,
        "budget": Budget(
            _minutes_of_hours(engagement.budgeted_hours), totals["recorded"]
        ),
        "totals": totals,
        "tasks": tasks,
        "tasks_capped": len(tasks) >= BUDGET_TASKS_CAP,
        "no_task": (sums.get(None) or {}).get("recorded") or 0,
        "other_tasks": other_tasks,
        # Query: the engagement's own rates with their members.
        "rates": list(
            EngagementRate.objects.filter(organization=org, engagement=engagement)
            .select_related("membership__user")
            .order_by("membership__user__name", "id")
        ),
        "can_set_rates": can_set_rates,
        # Query (managers and above): the members for the rate form.
        "rate_form": EngagementRateForm(members=active_members(org))
        if can_set_rates
        else None,
        "can_write": request.membership.can_write,
        "here": reverse(
            "clients:engagement_detail",
            kwargs={"org_slug": org.slug, "engagement_uuid": engagement.uuid},
        ),
    }
    return _partial(request, "billing/engagement_time.html", ctx)


@require_role(Role.READONLY)
def task_time(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    org = request.organization
    # Query: the task with its client and its workflow's engagement.
    task = get_object_or_404(
        visible_tasks(request).select_related("client", "execution__engagement"),
        uuid=task_uuid,
    )
    if not_allowed := get_only(request):
        return not_allowed
    # Query: the minutes recorded on it.
    sums = task_minutes(task)
    engagement = task.execution.engagement if task.execution_id else None
    add_url = ""
    if task.client_id is not None:
        timesheet = reverse("billing:timesheet", kwargs={"org_slug": org.slug})
        query = {"client": task.client.uuid, "task": task.uuid}
        if engagement is not None:
            query["engagement"] = engagement.uuid
        add_url = f"{timesheet}?{urlencode(query)}#add"
    ctx = {
        "task": task,
        "engagement": engagement,
        "budget": Budget(task.budgeted_minutes, sums["recorded"] or 0),
        "totals": {k: v or 0 for k, v in sums.items()},
        # Query: the latest entries on the task with their people.
        "entries": list(
            TimeEntry.objects.filter(organization=org, task=task)
            .select_related("user")
            .only("date", "minutes", "billable", "user__name", "user__email")
            .order_by("-date", "-created_at", "-id")[:TASK_ENTRIES]
        ),
        "can_write": request.membership.can_write and task.client_id is not None,
        "add_url": add_url,
        "here": reverse(
            "workflows:task_detail",
            kwargs={"org_slug": org.slug, "task_uuid": task.uuid},
        ),
    }
    return _partial(request, "billing/task_time.html", ctx)


urlpatterns = [
    path(
        "billing/engagements/<uuid:engagement_uuid>/time/",
        engagement_time,
        name="engagement_time",
    ),
    path("billing/tasks/<uuid:task_uuid>/time/", task_time, name="task_time"),
]
