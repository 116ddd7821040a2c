"""Reads for the time pages: what a time form offers, a person's week, budgets.

(billing/selectors.py holds the firm's settings, which every billing module
reads; these are the time pages' own.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet, Sum

from advisoros.http import is_uuid
from advisoros.tenancy.request import OrgRequest
from billing.models import TimeEntry, Timer
from clients.models import (
    OPEN_ENGAGEMENT_STATUSES,
    Client,
    ClientStatus,
    Engagement,
)
from clients.selectors import visible_clients
from clients.services.search import clients_matching
from workflows.models import CLOSED_STATUSES, Task
from workflows.selectors import CLIENT_CHOICES_CAP, visible_tasks

# A time form lists at most this many tasks of the chosen client (open ones,
# soonest due first); the task an entry already has is always among them.
TASK_CHOICES_CAP = 100


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week (weeks run Monday to Sunday, as on the
    workload page)."""
    return day - dt.timedelta(days=day.weekday())


def time_choices(
    request: OrgRequest,
    *,
    client_key: str = "",
    engagement_key: str = "",
    task_key: str = "",
    find: str = "",
    keep_client: Client | None = None,
) -> dict:
    """What a time form offers (three queries at most, whatever the firm's size):
    the clients the member sees (all of them up to CLIENT_CHOICES_CAP, else those
    matching `find`, as the start-workflow form does), and once a client is
    chosen its open engagements and open tasks. The chosen engagement and task
    are offered even when closed (time is recorded after the work is done), and
    `keep_client` (an entry's own client) even when the member no longer sees it.
    """
    find = find.strip()[:200]
    visible = visible_clients(request).exclude(status=ClientStatus.ARCHIVED)
    listed = clients_matching(visible, find) if find else visible
    # Query: the clients the member sees (not archived), by name, one past the cap.
    rows = list(
        listed.order_by("sort_name", "id").values_list(
            "uuid", "display_name", "client_code"
        )[: CLIENT_CHOICES_CAP + 1]
    )
    client_search = bool(find) or len(rows) > CLIENT_CHOICES_CAP
    rows = rows[:CLIENT_CHOICES_CAP]
    listed_keys = {str(r[0]) for r in rows}
    chosen: Client | None = None
    if keep_client is not None and str(keep_client.uuid) == client_key:
        chosen = keep_client
    elif is_uuid(client_key):
        # Query (a client is chosen): that client, if the member sees it (an
        # archived one too: it is offered when chosen, as a closed engagement is).
        chosen = visible_clients(request).filter(uuid=client_key).first()
    if chosen is not None and str(chosen.uuid) not in listed_keys:
        rows.insert(0, (chosen.uuid, chosen.display_name, chosen.client_code))
    clients = [(str(uuid), f"{name} ({code})") for uuid, name, code in rows]
    engagements: list[Engagement] = []
    tasks: list[Task] = []
    if chosen is not None:
        wanted_engagement = Q(uuid=engagement_key) if is_uuid(engagement_key) else Q()
        # Query: the client's open engagements (and the chosen one).
        engagements = list(
            Engagement.objects.filter(organization=request.organization, client=chosen)
            .filter(Q(status__in=OPEN_ENGAGEMENT_STATUSES) | wanted_engagement)
            .order_by("-tax_year", "name", "id")
            .only("uuid", "name", "client_id", "organization_id", "hourly_rate")
        )
        wanted_task = Q(uuid=task_key) if is_uuid(task_key) else Q()
        # Query: the client's open tasks, soonest due first (and the chosen one).
        tasks = list(
            visible_tasks(request)
            .filter(client=chosen)
            .filter(~Q(status__in=CLOSED_STATUSES) | wanted_task)
            .order_by(F("due_date").asc(nulls_last=True), "id")
            .only(
                "uuid",
                "title",
                "client_id",
                "execution_id",
                "organization_id",
                "due_date",
            )[:TASK_CHOICES_CAP]
        )
        if is_uuid(task_key) and task_key not in {str(t.uuid) for t in tasks}:
            tasks += list(
                visible_tasks(request).filter(client=chosen, uuid=task_key)[:1]
            )
    return {
        "clients": clients,
        "client": chosen,
        "engagements": engagements,
        "tasks": tasks,
        "client_search": client_search,
        "find": find,
    }


def week_entries(organization_id: int, user_id: int, start: dt.date) -> list[TimeEntry]:
    """A person's entries of the week starting `start`, with their client,
    engagement and task (one query, the (organization, user, date) index)."""
    return list(
        TimeEntry.objects.filter(
            organization_id=organization_id,
            user_id=user_id,
            date__gte=start,
            date__lt=start + dt.timedelta(days=7),
        )
        .select_related("client", "engagement", "task")
        .only(
            "uuid",
            "date",
            "minutes",
            "recorded_minutes",
            "description",
            "billable",
            "rate",
            "invoice_line_id",
            "created_at",
            "client__uuid",
            "client__display_name",
            "engagement__uuid",
            "engagement__name",
            "task__uuid",
            "task__title",
        )
        .order_by("date", "created_at", "id")
    )


@dataclass
class GridRow:
    """One line of the timesheet: a client, engagement and task, and its minutes
    on each day of the week."""

    client: Client
    engagement: Engagement | None
    task: Task | None
    days: list[int] = field(default_factory=lambda: [0] * 7)

    @property
    def total(self) -> int:
        return sum(self.days)

    @property
    def sort_key(self) -> tuple:
        return (
            self.client.display_name.lower(),
            self.engagement.name.lower() if self.engagement else "",
            self.task.title.lower() if self.task else "",
        )


@dataclass
class WeekGrid:
    rows: list[GridRow]
    day_totals: list[int]
    total: int
    billable: int

    @property
    def non_billable(self) -> int:
        return self.total - self.billable


def week_grid(entries: list[TimeEntry], start: dt.date) -> WeekGrid:
    """The entries as rows of client, engagement and task by day (no query)."""
    rows: dict[tuple, GridRow] = {}
    day_totals = [0] * 7
    billable = 0
    for entry in entries:
        key = (entry.client_id, entry.engagement_id, entry.task_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = GridRow(entry.client, entry.engagement, entry.task)
        day = (entry.date - start).days
        row.days[day] += entry.minutes
        day_totals[day] += entry.minutes
        if entry.billable:
            billable += entry.minutes
    return WeekGrid(
        rows=sorted(rows.values(), key=lambda r: r.sort_key),
        day_totals=day_totals,
        total=sum(day_totals),
        billable=billable,
    )


def running_timer(organization_id: int, user_id: int) -> Timer | None:
    """The person's running timer with its client and engagement (one query)."""
    return (
        Timer.objects.filter(organization_id=organization_id, user_id=user_id)
        .select_related("client", "engagement", "task")
        .first()
    )


# Budgets against actuals -------------------------------------------------------------


def _sums() -> dict:
    return {
        "recorded": Sum("minutes"),
        "billable_minutes": Sum("minutes", filter=Q(billable=True)),
        "unbilled": Sum("minutes", filter=Q(billable=True, invoice_line__isnull=True)),
    }


def engagement_minutes(engagement: Engagement) -> dict[int | None, dict]:
    """Recorded minutes on the engagement by task (None: not on a task), each
    with its billable and unbilled part (one query, grouped)."""
    return {
        row["task_id"]: row
        for row in TimeEntry.objects.filter(
            organization_id=engagement.organization_id, engagement=engagement
        )
        .values("task_id")
        .annotate(**_sums())
        .order_by()
    }


# An engagement's panel lists at most this many of its tasks.
BUDGET_TASKS_CAP = 100


def engagement_budget_tasks(
    request: OrgRequest, engagement: Engagement, with_time: set[int]
) -> QuerySet[Task]:
    """The engagement's tasks that have a budget or recorded time, in workflow
    and step order, at most BUDGET_TASKS_CAP of them."""
    return (
        visible_tasks(request)
        .filter(execution__engagement=engagement)
        .filter(Q(budgeted_minutes__gt=0) | Q(pk__in=with_time))
        .order_by("-execution__start_date", "execution_id", "step_index", "id")
        .only("uuid", "title", "status", "budgeted_minutes")[:BUDGET_TASKS_CAP]
    )


def task_minutes(task: Task) -> dict:
    """Recorded minutes on the task, billable and unbilled (one query)."""
    return TimeEntry.objects.filter(
        organization_id=task.organization_id, task=task
    ).aggregate(**_sums())
