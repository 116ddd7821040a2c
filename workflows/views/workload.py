"""The workload page: budgeted hours per person per week against capacity.

A task's budgeted minutes count in the ISO week (Monday to Sunday) of its due
date, for the next WEEKS weeks from this one; work due later, work with no due
date and overdue work get columns of their own (overdue work is not charged to
a week: when it is done is the question the overdue column asks). Only open
tasks count (waiting, ready, in progress, in review) and only those the viewer
may see.

Capacity: each member's own weekly hours (`Membership.weekly_capacity_hours`,
set with their rates; CAPACITY_HOURS, a full-time week, until changed). Work of
former members and unassigned work is measured against CAPACITY_HOURS. A cell's
colour says how full the week is; the numbers say it too. A person with no
capacity (0 hours) is far over with any work at all.

Two queries whatever the firm's size: one aggregate over the open tasks
(conditional sums, grouped by assignee, an index-only scan of task_board_open)
and the firm's members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from advisoros.overdue import overdue_q
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from workflows.models import OPEN_STATUSES
from workflows.selectors import visible_tasks

WEEKS = 6
CAPACITY_HOURS = 40


def capacity_for(member: Membership | None) -> int:
    """A person's weekly capacity in hours: their own, or a full-time week for
    the rows that are nobody's (former members, unassigned work)."""
    return CAPACITY_HOURS if member is None else member.weekly_capacity_hours


@dataclass
class Cell:
    minutes: int = 0
    capacity: int = CAPACITY_HOURS

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def load(self) -> str:
        """How full the week is, as a CSS class."""
        if not self.minutes:
            return "load-none"
        if not self.capacity:
            return "load-way-over"
        share = self.minutes / (self.capacity * 60)
        if share < 0.5:
            return "load-low"
        if share < 0.85:
            return "load-ok"
        if share <= 1.0:
            return "load-full"
        if share <= 1.25:
            return "load-over"
        return "load-way-over"

    @property
    def percent(self) -> int:
        if not self.capacity:
            return 100 if self.minutes else 0
        return round(100 * self.minutes / (self.capacity * 60))


@dataclass
class Row:
    name: str
    uuid: str = ""
    capacity: int = CAPACITY_HOURS
    overdue: int = 0
    overdue_minutes: int = 0
    weeks: list[Cell] = field(default_factory=list)
    later_minutes: int = 0
    undated_minutes: int = 0
    tasks: int = 0

    @property
    def overdue_hours(self) -> float:
        return round(self.overdue_minutes / 60, 1)

    @property
    def later_hours(self) -> float:
        return round(self.later_minutes / 60, 1)

    @property
    def undated_hours(self) -> float:
        return round(self.undated_minutes / 60, 1)


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(weeks=i) for i in range(weeks)]


def workload_rows(request: OrgRequest, today: date) -> tuple[list[Row], list[date]]:
    starts = week_starts(today)
    end = starts[-1] + timedelta(weeks=1)
    overdue = overdue_q(today, OPEN_STATUSES)
    sums = {
        "overdue": Count("id", filter=overdue),
        "overdue_minutes": Sum("budgeted_minutes", filter=overdue),
        "later_minutes": Sum("budgeted_minutes", filter=Q(due_date__gte=end)),
        "undated_minutes": Sum("budgeted_minutes", filter=Q(due_date__isnull=True)),
        "tasks": Count("id"),
    }
    for i, start in enumerate(starts):
        # This week starts today: what was due earlier in it is overdue.
        low = max(start, today)
        sums[f"w{i}"] = Sum(
            "budgeted_minutes",
            filter=Q(due_date__gte=low, due_date__lt=start + timedelta(weeks=1)),
        )
    # Query: the open tasks' sums per assignee (one pass over the firm's open work).
    totals = {
        row["assignee_id"]: row
        for row in visible_tasks(request)
        .filter(status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(**sums)
        .order_by()
    }
    # Query: the people who do the work (read-only members are never assigned).
    members = (
        Membership.objects.filter(organization=request.organization, is_active=True)
        .exclude(role=Role.READONLY)
        .select_related("user")
        .only(
            "role", "weekly_capacity_hours", "user__uuid", "user__name", "user__email"
        )
        .order_by("user__name", "user__email")
    )
    rows = []
    for member in members:
        row = Row(
            name=member.user.name or member.user.email,
            uuid=str(member.user.uuid),
            capacity=capacity_for(member),
        )
        _fill(row, totals.pop(member.user_id, None))
        rows.append(row)
    former = [t for key, t in totals.items() if key is not None]
    if former:
        # Tasks still assigned to people who left the firm (or became read-only).
        row = Row(name="Former members")
        for t in former:
            _fill(row, t, add=True)
        rows.append(row)
    unassigned = totals.get(None)
    if unassigned:
        row = Row(name="Unassigned", uuid="none")
        _fill(row, unassigned)
        rows.append(row)
    return rows, starts


def _fill(row: Row, totals: dict | None, *, add: bool = False) -> None:
    if not row.weeks:
        row.weeks = [Cell(capacity=row.capacity) for _ in range(WEEKS)]
    if not totals:
        return
    row.overdue += totals["overdue"]
    row.overdue_minutes += totals["overdue_minutes"] or 0
    row.later_minutes += totals["later_minutes"] or 0
    row.undated_minutes += totals["undated_minutes"] or 0
    row.tasks += totals["tasks"]
    for i, cell in enumerate(row.weeks):
        cell.minutes += totals[f"w{i}"] or 0


@require_GET
@require_role(Role.READONLY)
def workload(request: OrgRequest, org_slug: str) -> HttpResponse:
    today = firm_today(request.organization)
    rows, starts = workload_rows(request, today)
    weeks = [
        {
            "start": start,
            "end": start + timedelta(days=6),
            "number": start.isocalendar().week,
            "current": i == 0,
        }
        for i, start in enumerate(starts)
    ]
    ctx = {
        "rows": rows,
        "weeks": weeks,
        "today": today,
        "capacity": CAPACITY_HOURS,
        "has_work": any(r.tasks for r in rows),
    }
    return render(request, "workflows/workload.html", ctx)


urlpatterns = [
    path("work/workload/", workload, name="workload"),
]
