"""Workflows' panel on the firm dashboard (slot "dashboard", advisoros/panels.py):
open and overdue work by person, and what is due this week.

Open work is the tasks still to do (waiting, ready, in progress, in review);
overdue is advisoros.overdue's rule in the firm's today. "This week" runs from
the firm's today to Sunday (ISO weeks, as the workload page's). Only the tasks
the member may see count (workflows.selectors.visible_tasks), so a member
limited to assigned clients sees their share.

Three queries whatever the firm's size: the open tasks' counts per assignee
(from task_board_open), the firm's people's names, and the first tasks due this
week. The names are a query of their own: joined in the count, they cost a
lookup per open task (17,000 at bench-100k).
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
from advisoros.tenancy.models import Membership
from workflows.models import OPEN_STATUSES, TaskStatus
from workflows.selectors import visible_tasks

PEOPLE_SHOWN = 10  # bars in the chart; the rest are summed as "Everyone else"
DUE_SHOWN = 8  # tasks listed under "Due this week"
OVERDUE_COLOR = "#b91c1c"  # the palette's red (6.5:1 on white)
ON_TIME_COLOR = "#1d4ed8"  # the palette's blue (6.7:1)


def dashboard_work_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    today = firm_today(request.organization)
    week_end = today + timedelta(days=6 - today.weekday())
    open_tasks = visible_tasks(request).filter(status__in=OPEN_STATUSES)
    overdue = overdue_q(today, OPEN_STATUSES)
    # Query: the open tasks counted per assignee (overdue and due this week
    # among them), from task_board_open; names are joined after, not per task.
    people = list(
        open_tasks.values("assignee_id")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=overdue),
            due_this_week=Count(
                "pk", filter=Q(due_date__gte=today, due_date__lte=week_end)
            ),
        )
        .order_by()
    )
    # Query: the names of the firm's people, former members included (a few
    # dozen rows, whatever the number of tasks).
    names_of = {
        user_id: name or email
        for user_id, name, email in Membership.objects.filter(
            organization=request.organization
        ).values_list("user_id", "user__name", "user__email")
    }
    for p in people:
        if p["assignee_id"] is None:
            p["name"] = "Unassigned"
        else:
            p["name"] = names_of.get(p["assignee_id"]) or "Former member"
    people.sort(key=lambda p: (-p["open"], p["assignee_id"] is None, p["name"]))
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
        # Dated by the filter, so the plain due date orders them (task_open_due).
        .order_by("due_date", "id")[:DUE_SHOWN]
    )
    task_url = row_url(
        "workflows:task_detail", "task_uuid", org_slug=request.organization.slug
    )
    for task in due:
        task.url = task_url(task.uuid)
        task.is_waiting = task.status == TaskStatus.PENDING
    shown, rest = people[:PEOPLE_SHOWN], people[PEOPLE_SHOWN:]
    names = [p["name"] for p in shown]
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
