"""Workflows' panel on the firm dashboard (slot "dashboard", advisoros/panels.py):
open and overdue work by person, and what is due this week.

Open work is the tasks still to do (waiting, ready, in progress, in review);
overdue is advisoros.overdue's rule in the firm's today. "This week" runs from
the firm's today to Sunday (ISO weeks, as the workload page's). Only the tasks
the member may see count (workflows.selectors.visible_tasks), so a member
limited to assigned clients sees their share.

Two queries whatever the firm's size: the open tasks' counts per assignee (an
index-only scan of task_board_open, joined to the people's names), and the
first tasks due this week.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from advisoros.charts import Series, stacked_bar_chart
from advisoros.overdue import overdue_q
from advisoros.panels import register_panel
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from workflows.models import OPEN_STATUSES, TaskStatus
from workflows.selectors import due_sort, visible_tasks

PEOPLE_SHOWN = 10  # bars in the chart; the rest are summed as "Everyone else"
DUE_SHOWN = 8  # tasks listed under "Due this week"
OVERDUE_COLOR = "#b91c1c"  # the palette's red (6.5:1 on white)
ON_TIME_COLOR = "#1d4ed8"  # the palette's blue (6.7:1)


def _person(row: dict[str, Any]) -> str:
    if row["assignee_id"] is None:
        return "Unassigned"
    return row["assignee__name"] or row["assignee__email"]


def dashboard_work_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    today = firm_today(request.organization)
    week_end = today + timedelta(days=6 - today.weekday())
    open_tasks = visible_tasks(request).filter(status__in=OPEN_STATUSES)
    overdue = overdue_q(today, OPEN_STATUSES)
    # Query: the open tasks counted per assignee (overdue and due this week
    # among them), with each person's name.
    people = list(
        open_tasks.values("assignee_id", "assignee__name", "assignee__email")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=overdue),
            due_this_week=Count(
                "pk", filter=Q(due_date__gte=today, due_date__lte=week_end)
            ),
        )
        .order_by("-open", "assignee__name", "assignee__email", "assignee_id")
    )
    # Query: the first open tasks due from today to Sunday, with their clients
    # and assignees.
    due = list(
        open_tasks.filter(due_date__gte=today, due_date__lte=week_end)
        .select_related("client", "assignee")
        .only(
            "uuid",
            "organization_id",
            "title",
            "status",
            "due_date",
            "client__uuid",
            "client__display_name",
            "assignee__name",
            "assignee__email",
        )
        .order_by(due_sort(), "id")[:DUE_SHOWN]
    )
    task_url = row_url(
        "workflows:task_detail", "task_uuid", org_slug=request.organization.slug
    )
    for task in due:
        task.url = task_url(task.uuid)
        task.is_waiting = task.status == TaskStatus.PENDING
    shown, rest = people[:PEOPLE_SHOWN], people[PEOPLE_SHOWN:]
    names = [_person(p) for p in shown]
    overdue_counts = [p["overdue"] for p in shown]
    on_time = [p["open"] - p["overdue"] for p in shown]
    if rest:
        names.append(f"Everyone else ({len(rest)})")
        overdue_counts.append(sum(p["overdue"] for p in rest))
        on_time.append(sum(p["open"] - p["overdue"] for p in rest))
    totals = {
        key: sum(p[key] for p in people) for key in ("open", "overdue", "due_this_week")
    }
    return {
        "organization": request.organization,
        "can_write": request.membership.can_write,
        "totals": totals,
        "due": due,
        "more_due": totals["due_this_week"] - len(due),
        "week_end": week_end,
        "today": today,
        "chart": stacked_bar_chart(
            title="Open work by person",
            categories=names,
            series=[
                Series("Overdue", overdue_counts, OVERDUE_COLOR),
                Series("Not overdue", on_time, ON_TIME_COLOR),
            ],
            category_title="Person",
            summary="Each person's open tasks, overdue ones first.",
            chart_id="dashboard-work",
            empty_text="No open tasks.",
            whole=True,
        ),
    }


register_panel(
    "dashboard",
    template="workflows/panels/dashboard_work.html",
    context=dashboard_work_context,
    order=300,
)
