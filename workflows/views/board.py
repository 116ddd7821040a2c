"""The team board: the firm's open work in columns by status, and moving a card.

Columns: pending (collapsed), ready, in progress, in review, and the tasks
completed in the last two weeks. Each column shows at most COLUMN_SIZE cards
(soonest due first; newest completed first) and a count capped at COUNT_CAP,
so the page costs the same at 1,000 or 100,000 tasks: one query for every
column's cards, one for every column's count. "More" opens one column alone,
in keyset pages.

A card moves by native drag and drop (static/js/board.js) or, from the
keyboard and without JavaScript, by the "Move to" menu on the card. Both POST
to `task_move`, and the task service is the judge: an illegal move answers 409
with its reason and the card goes back where it was.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from advisoros.http import csrf_field, is_uuid, wants_json
from advisoros.pagination import KeysetPage, keyset_page
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from workflows.cards import assignee_html, card_html, move_options
from workflows.models import (
    Task,
    TaskStatus,
    TemplateCategory,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.selectors import capped_counts, due_sort, visible_tasks
from workflows.services.tasks import allowed_moves_memo, task_transition
from workflows.views.my_work import decorate_rows, my_tasks

COLUMN_SIZE = 25
COUNT_CAP = 1000
COLUMN_PAGE_SIZE = 60
RECENT_DAYS = 14

# The board's columns, left to right (pending is drawn collapsed).
COLUMNS = (
    TaskStatus.PENDING,
    TaskStatus.READY,
    TaskStatus.IN_PROGRESS,
    TaskStatus.IN_REVIEW,
    TaskStatus.COMPLETED,
)
COLUMN_TITLES = {
    **dict(TaskStatus.choices),
    TaskStatus.PENDING: "Waiting",
    TaskStatus.COMPLETED: f"Completed (last {RECENT_DAYS} days)",
}
# Where a card may be dropped (the menu offers every legal move, skip and
# cancel included).
DROP_TARGETS = COLUMNS[1:]
# The columns whose cards the board shows (the waiting one is only counted).
SHOWN = COLUMNS[1:]
CARD_COLUMNS = (
    "uuid",
    "organization_id",
    "title",
    "status",
    "priority",
    "due_date",
    "completed_at",
    "needs_approval",
    "assignee_id",
    "client_id",
    "execution_id",
)
UNASSIGNED = "none"


@dataclass
class BoardFilters:
    """The board's filters, from the URL. Unknown values are ignored (a stale
    link shows the whole board rather than an error)."""

    assignee: str = ""  # a member's user uuid, "me" or "none"
    client: str = ""  # a client uuid
    template: str = ""  # a workflow template uuid
    execution: str = ""  # one workflow's uuid
    category: str = ""
    column: str = ""  # one column alone, in pages
    cursor: str = ""

    NAMES = ("assignee", "client", "template", "execution", "category")

    @classmethod
    def from_query(cls, params: QueryDict) -> BoardFilters:
        f = cls(**{name: params.get(name, "").strip()[:64] for name in cls.NAMES})
        for name in ("client", "template", "execution"):
            if not is_uuid(getattr(f, name)):
                setattr(f, name, "")
        if f.assignee not in ("", "me", UNASSIGNED) and not is_uuid(f.assignee):
            f.assignee = ""
        if f.category not in TemplateCategory.values:
            f.category = ""
        column = params.get("column", "")
        f.column = column if column in COLUMNS else ""
        f.cursor = params.get("cursor", "")
        return f

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.NAMES)

    def query(self, **changes: str) -> str:
        params = QueryDict(mutable=True)
        for name in (*self.NAMES, "column"):
            value = changes.get(name, getattr(self, name))
            if value:
                params[name] = value
        return params.urlencode()


def filtered_tasks(
    request: OrgRequest, f: BoardFilters, members: dict[str, Membership]
) -> QuerySet:
    qs = visible_tasks(request)
    if f.assignee == "me":
        qs = qs.filter(assignee_id=request.user.pk)
    elif f.assignee == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee:
        member = members.get(f.assignee)
        qs = qs.filter(assignee_id=member.user_id) if member else qs.none()
    if f.client:
        qs = qs.filter(client__uuid=f.client)
    if f.execution:
        qs = qs.filter(execution__uuid=f.execution)
    if f.template:
        qs = qs.filter(execution__template__uuid=f.template)
    if f.category:
        qs = qs.filter(execution__template__category=f.category)
    return qs


def _cards(qs: QuerySet) -> QuerySet:
    return qs.only(*CARD_COLUMNS)


class CardClient(NamedTuple):
    uuid: uuid.UUID
    display_name: str
    client_code: str


class CardEngagement(NamedTuple):
    reviewer_id: int | None


class CardExecution(NamedTuple):
    uuid: uuid.UUID
    name: str
    status: str
    engagement: CardEngagement | None


def with_card_relations(request: OrgRequest, cards: list) -> None:
    """The cards' clients and workflows (with the engagement's reviewer, which
    the approval rule reads), one query each, as plain rows: a board points to
    a hundred of them, and model instances cost a few milliseconds more. Joined
    into the cards' own query they made each of its UNION's parts a four-table
    join under row-level security, which cost PostgreSQL more to plan than to
    run."""
    org = request.organization
    client_ids = {t.client_id for t in cards} - {None}
    execution_ids = {t.execution_id for t in cards} - {None}
    clients = (
        {
            pk: CardClient(*rest)
            for pk, *rest in Client.objects.filter(
                organization=org, pk__in=client_ids
            ).values_list("id", "uuid", "display_name", "client_code")
        }
        if client_ids
        else {}
    )
    executions = (
        {
            pk: CardExecution(
                uuid, name, status, CardEngagement(reviewer) if engagement else None
            )
            for pk, uuid, name, status, engagement, reviewer in (
                WorkflowExecution.objects.filter(
                    organization=org, pk__in=execution_ids
                ).values_list(
                    "id",
                    "uuid",
                    "name",
                    "status",
                    "engagement_id",
                    "engagement__reviewer_id",
                )
            )
        }
        if execution_ids
        else {}
    )
    client_field = Task._meta.get_field("client")
    execution_field = Task._meta.get_field("execution")
    for task in cards:
        client_field.set_cached_value(task, clients.get(task.client_id))
        execution_field.set_cached_value(task, executions.get(task.execution_id))


def _recently_completed(qs: QuerySet) -> QuerySet:
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return qs.filter(status=TaskStatus.COMPLETED, completed_at__gte=since)


def _column(qs: QuerySet, status: str) -> QuerySet:
    """One column's tasks, in the column's order (each an index range)."""
    # Every column carries due_sort, so their slices make one UNION.
    if status == TaskStatus.COMPLETED:
        return (
            _recently_completed(qs)
            .annotate(due_sort=due_sort())
            .order_by("-completed_at", "-id")
        )
    return (
        qs.filter(status=status)
        .annotate(due_sort=due_sort())
        .order_by("due_sort", "id")
    )


def column_cards(request: OrgRequest, qs: QuerySet) -> dict[str, list]:
    """The shown columns' first COLUMN_SIZE + 1 cards in one query (UNION ALL of
    index ranges), then their clients and workflows. The waiting column is
    collapsed: only counted."""
    parts = [_cards(_column(qs, status))[: COLUMN_SIZE + 1] for status in SHOWN]
    rows = list(parts[0].union(*parts[1:], all=True))
    with_card_relations(request, rows)
    cards: dict[str, list] = {status: [] for status in COLUMNS}
    for task in rows:
        cards[task.status].append(task)
    return cards


def column_counts(qs: QuerySet) -> dict[str, int]:
    """How many tasks each column holds, counting at most COUNT_CAP + 1 (one
    query): nobody needs to know there are 41,213 rather than "1,000+"."""
    return capped_counts(
        {status: _column(qs, status) for status in COLUMNS}, cap=COUNT_CAP
    )


def _members(request: OrgRequest) -> dict[str, Membership]:
    """The firm's active members by user uuid (the assignee filter and names)."""
    return {
        str(m.user.uuid): m
        for m in Membership.objects.filter(
            organization=request.organization, is_active=True
        )
        .select_related("user")
        .only("role", "user__uuid", "user__name", "user__email")
        .order_by("user__name", "user__email")
    }


def decorate_cards(
    request: OrgRequest, cards: list, names: dict[int, str], *, back: str
) -> None:
    """Each card's HTML (`task.html`, workflows.cards), without a query."""
    slug = request.organization.slug
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)
    execution_url = row_url(
        "workflows:execution_detail", "execution_uuid", org_slug=slug
    )
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
    move_url = row_url("workflows:task_move", "task_uuid", org_slug=slug)
    today = firm_today(request.organization)
    zone = ZoneInfo(request.organization.timezone)
    role = request.membership.role_enum
    can_act = request.membership.can_write
    csrf = csrf_field(request) if can_act else ""
    allowed_moves = allowed_moves_memo(by=request.user, role=role)
    who = cache(assignee_html)  # a handful of assignees for a hundred cards
    back = conditional_escape(back)  # the same on every card: escaped once
    for task in cards:
        moves = allowed_moves(task) if can_act else ()
        task.html = card_html(
            task,
            url=task_url(task.uuid),
            move_url=move_url(task.uuid),
            client_url=client_url(task.client.uuid) if task.client_id else "",
            execution_url=(
                execution_url(task.execution.uuid) if task.execution_id else ""
            ),
            who=who(names.get(task.assignee_id, "")),
            today=today,
            zone=zone,
            options=move_options(moves) if moves else "",
            csrf=csrf,
            back=back,
        )


@require_GET
@require_role(Role.READONLY)
def board(request: OrgRequest, org_slug: str) -> HttpResponse:
    f = BoardFilters.from_query(request.GET)
    members = _members(request)
    names = {m.user_id: m.user.name or m.user.email for m in members.values()}
    qs = filtered_tasks(request, f, members)
    here = reverse("workflows:board", kwargs={"org_slug": request.organization.slug})
    ctx = {
        "filters": f,
        "members": members.values(),
        "templates": WorkflowTemplate.objects.filter(
            organization=request.organization
        ).only("uuid", "name"),
        "categories": TemplateCategory.choices,
        "can_act": request.membership.can_write,
        "here": here,
        "count_cap": COUNT_CAP,
        "drop_targets": DROP_TARGETS,
        "back": request.get_full_path(),
        "csrf_field": csrf_field(request),
        "client_name": "",
        "execution_name": "",
        "without_client_url": f"{here}?{f.query(client='')}",
        "without_execution_url": f"{here}?{f.query(execution='')}",
    }
    if f.client:
        ctx["client_name"] = (
            Client.objects.filter(organization=request.organization, uuid=f.client)
            .values_list("display_name", flat=True)
            .first()
            or "a client you cannot see"
        )
    if f.execution:
        ctx["execution_name"] = (
            WorkflowExecution.objects.filter(
                organization=request.organization, uuid=f.execution
            )
            .values_list("name", flat=True)
            .first()
            or "a workflow you cannot see"
        )
    if f.column:
        page = _column_page(qs, f)
        with_card_relations(request, page.rows)
        decorate_cards(request, page.rows, names, back=ctx["back"])
        ctx |= _column_page_context(f, page, here)
    else:
        cards = column_cards(request, qs)
        counts = column_counts(qs)
        shown = {status: ts[:COLUMN_SIZE] for status, ts in cards.items()}
        decorate_cards(
            request, [t for ts in shown.values() for t in ts], names, back=ctx["back"]
        )
        ctx["columns"] = [
            {
                "status": status,
                "title": COLUMN_TITLES[status],
                "cards": shown[status],
                # One string a column: the engine's loop and lookup cost about
                # 10 µs a card, a millisecond on a full board.
                "cards_html": SafeString("".join(t.html for t in shown[status])),
                "count": counts[status],
                "capped": counts[status] > COUNT_CAP,
                "more": len(cards[status]) > COLUMN_SIZE,
                "more_url": f"{here}?{f.query(column=status)}",
            }
            for status in COLUMNS
        ]
    return render(request, "workflows/board.html", ctx)


def _column_page(qs: QuerySet, f: BoardFilters) -> KeysetPage:
    if f.column == TaskStatus.COMPLETED:
        return keyset_page(
            _cards(_recently_completed(qs)),
            keys=("completed_at", "id"),
            descending=True,
            cursor=f.cursor or None,
            size=COLUMN_PAGE_SIZE,
        )
    return keyset_page(
        _cards(qs.filter(status=f.column).annotate(due_sort=due_sort())),
        keys=("due_sort", "id"),
        cursor=f.cursor or None,
        size=COLUMN_PAGE_SIZE,
    )


def _column_page_context(f: BoardFilters, page: KeysetPage, here: str) -> dict:
    base = f"{here}?{f.query()}"
    return {
        "column_title": COLUMN_TITLES[f.column],
        "page": page,
        "board_url": f"{here}?{f.query(column='')}",
        "next_url": f"{base}&cursor={page.next_cursor}" if page.has_next else "",
        "prev_url": f"{base}&cursor={page.prev_cursor}" if page.has_previous else "",
    }


# Moving a card ----------------------------------------------------------------------


def _back(request: OrgRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("workflows:board", kwargs={"org_slug": request.organization.slug})


@require_POST
@require_role(Role.STAFF)
def task_move(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    """Move a task to another status: from the board (JSON), from My work (htmx,
    the row comes back) or from a plain form (a redirect with a message)."""
    task = get_object_or_404(visible_tasks(request), uuid=task_uuid)
    to_status = request.POST.get("status", "")
    error, status_code = "", 200
    if to_status not in TaskStatus.values:
        error, status_code = "Choose the column to move the task to.", 400
    else:
        try:
            task = task_transition(task=task, to_status=to_status, by=request.user)
        except ValidationError as exc:
            error, status_code = " ".join(exc.messages), 409
    done = f"“{task.title}” is now {task.status_label.lower()}." if not error else ""
    if request.htmx:
        return _my_work_row(request, task, error=error, done=done)
    if wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=status_code)
        return JsonResponse(
            {
                "status": task.status,
                "message": done,
                "card": _card_html(request, task),
            }
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(_back(request))


def _card_html(request: OrgRequest, task) -> str:
    """The moved card, fresh, for board.js to put in its new column."""
    card = _cards(visible_tasks(request)).get(pk=task.pk)
    with_card_relations(request, [card])
    names = {}
    if card.assignee_id:
        names = {
            m.user_id: m.user.name or m.user.email
            for m in Membership.objects.filter(
                organization=request.organization, user_id=card.assignee_id
            ).select_related("user")
        }
    decorate_cards(request, [card], names, back=_back(request))
    return card.html


def _my_work_row(request: OrgRequest, task, *, error: str, done: str) -> HttpResponse:
    row = my_tasks(request).filter(pk=task.pk).first()
    if row is None:
        # No longer on the list (completed, or given to someone else): the row
        # says what happened instead.
        return render(
            request,
            "workflows/my_work.html#done_row",
            {"task": task, "done": done, "error": error},
        )
    here = reverse("workflows:my_work", kwargs={"org_slug": request.organization.slug})
    decorate_rows(
        request,
        [row],
        firm_today(request.organization),
        here=here,
        error=error,
        done=done,
    )
    return HttpResponse(row.html)


urlpatterns = [
    path("work/board/", board, name="board"),
    path("tasks/<uuid:task_uuid>/move/", task_move, name="task_move"),
]
