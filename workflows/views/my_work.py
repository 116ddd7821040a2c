"""My work: the member's own open tasks by due date, overdue first.

The list is the tasks assigned to the member that they can act on (ready, in
progress, in review), ordered by due date with undated tasks last, so the
groups read overdue, due today, due this week, later, no date. Pending tasks
(still waiting for earlier steps) are counted, not listed. Quick actions start,
send for review or complete a task in place (htmx; a plain form without
JavaScript), through the task service, which judges every move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from advisoros.http import csrf_field
from advisoros.pagination import keyset_page
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from workflows.cards import row_html
from workflows.models import Task, TaskStatus
from workflows.selectors import ACTIONABLE_STATUSES, capped_counts, due_sort
from workflows.services.tasks import allowed_moves_memo

PAGE_SIZE = 50
SUMMARY_CAP = 999

# The columns a row shows (and what allowed_moves reads): a whole task, client
# and workflow would cost more than the page itself.
ROW_COLUMNS = (
    "uuid",
    "organization_id",
    "title",
    "status",
    "priority",
    "due_date",
    "needs_approval",
    "assignee_id",
    "client_id",
    "client__uuid",
    "client__display_name",
    "client__client_code",
    "execution_id",
    "execution__uuid",
    "execution__name",
    "execution__status",
    "execution__engagement_id",
    "execution__engagement__reviewer_id",
)

# The quick actions a row offers, when the task service allows the move.
QUICK_ACTIONS = {
    TaskStatus.IN_PROGRESS: "Start",
    TaskStatus.IN_REVIEW: "Send for review",
    TaskStatus.COMPLETED: "Complete",
}


@dataclass(frozen=True)
class DueBuckets:
    """Where a due date falls, seen from the firm's today (weeks end on Sunday)."""

    today: date

    @property
    def week_end(self) -> date:
        return self.today + timedelta(days=6 - self.today.weekday())

    def of(self, due: date | None) -> tuple[str, str]:
        if due is None:
            return "none", "No due date"
        if due < self.today:
            return "overdue", "Overdue"
        if due == self.today:
            return "today", "Due today"
        if due <= self.week_end:
            return "week", "Due this week"
        return "later", "Later"


def my_tasks(request: OrgRequest):
    """The member's actionable tasks in due order. Their own tasks are always
    visible to them (workflows.selectors), so no visibility filter is needed."""
    return (
        Task.objects.filter(
            organization=request.organization,
            assignee=request.user,
            status__in=ACTIONABLE_STATUSES,
        )
        .annotate(due_sort=due_sort())
        .select_related("client", "execution", "execution__engagement")
        .only(*ROW_COLUMNS)
    )


def decorate_rows(
    request: OrgRequest,
    tasks: list[Task],
    today: date,
    *,
    here: str,
    error: str = "",
    done: str = "",
) -> None:
    """Each row's due group and HTML (`task.html`, workflows.cards), without a
    query."""
    slug = request.organization.slug
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)
    execution_url = row_url(
        "workflows:execution_detail", "execution_uuid", org_slug=slug
    )
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
    move_url = row_url("workflows:task_move", "task_uuid", org_slug=slug)
    buckets = DueBuckets(today)
    role = request.membership.role_enum
    can_act = request.membership.can_write
    csrf = csrf_field(request) if can_act else ""
    allowed_moves = allowed_moves_memo(by=request.user, role=role)
    for task in tasks:
        task.bucket, task.bucket_label = buckets.of(task.due_date)
        actions = []
        if can_act:
            moves = allowed_moves(task)
            actions = [
                (status, "Approve" if task.status == TaskStatus.IN_REVIEW else label)
                if status == TaskStatus.COMPLETED
                else (status, label)
                for status, label in QUICK_ACTIONS.items()
                if status in moves
            ]
        task.quick_actions = actions
        task.html = row_html(
            task,
            url=task_url(task.uuid),
            move_url=move_url(task.uuid),
            client_url=client_url(task.client.uuid) if task.client_id else "",
            execution_url=(
                execution_url(task.execution.uuid) if task.execution_id else ""
            ),
            can_act=can_act,
            csrf=csrf,
            here=here,
            error=error,
            done=done,
        )


def _summary(request: OrgRequest, today: date) -> dict[str, int]:
    """The counts above the list, each capped at SUMMARY_CAP (one query of
    bounded index ranges on task_org_assignee_due, whatever the person's load)."""
    week_end = DueBuckets(today).week_end
    mine = Task.objects.filter(organization=request.organization, assignee=request.user)
    actionable = mine.filter(status__in=ACTIONABLE_STATUSES)
    return capped_counts(
        {
            "overdue": actionable.filter(due_date__lt=today),
            "today": actionable.filter(due_date=today),
            "week": actionable.filter(due_date__gt=today, due_date__lte=week_end),
            "open": actionable,
            "waiting": mine.filter(status=TaskStatus.PENDING),
        },
        cap=SUMMARY_CAP,
    )


@require_GET
@require_role(Role.READONLY)
def my_work(request: OrgRequest, org_slug: str) -> HttpResponse:
    today = firm_today(request.organization)
    page = keyset_page(
        my_tasks(request),
        keys=("due_sort", "id"),
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    here = reverse("workflows:my_work", kwargs={"org_slug": request.organization.slug})
    decorate_rows(request, page.rows, today, here=here)
    summary = _summary(request, today)
    ctx = {
        "page": page,
        "today": today,
        "summary": summary,
        # "999+" where a count reached its cap.
        "shown": {
            key: f"{SUMMARY_CAP}+" if value > SUMMARY_CAP else str(value)
            for key, value in summary.items()
        },
        "can_act": request.membership.can_write,
        "here": here,
        "next_url": f"{here}?cursor={page.next_cursor}" if page.has_next else "",
        "prev_url": f"{here}?cursor={page.prev_cursor}" if page.has_previous else "",
    }
    return render(request, "workflows/my_work.html", ctx)


urlpatterns = [
    path("work/", my_work, name="my_work"),
]
