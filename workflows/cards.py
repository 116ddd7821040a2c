"""The board's cards and My work's rows, as HTML built in Python.

Why not a template: a board shows up to a hundred cards and My work fifty
rows, and the template engine's thirty-odd lookups a card cost more than the
rest of the page (about 0.2 ms a card, 0.3 ms a row, against a few hundredths
here). So the markup is written here, with format_html and format_html_join
as in advisoros/widgets.py: every value is escaped unless it is already safe
HTML (the CSRF field, the move menu's options), so no value can be forgotten.

The views (workflows/views/board.py and my_work.py) load the tasks, work out
the URLs and the moves the task service allows, and hand them to these
functions; nothing here queries.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache, lru_cache

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from clients.models import choice_label
from workflows.models import Priority, Task, TaskStatus

_NOTHING = SafeString("")
# Status codes are fixed identifiers ("in_progress"): nothing to escape.
_STATUS_CODES = {status: SafeString(status) for status in TaskStatus.values}
_UNASSIGNED = mark_safe('<span class="muted">Unassigned</span>')  # noqa: S308
_NO_DATE = mark_safe('<span class="muted">—</span>')  # noqa: S308
_FIRM_TASK = mark_safe('<span class="muted">Firm task</span>')  # noqa: S308
_AD_HOC = mark_safe('<span class="muted">Ad hoc</span>')  # noqa: S308
_DRAGGABLE = mark_safe(' draggable="true"')  # noqa: S308
_OVERDUE_TEXT = mark_safe(' class="overdue-text"')  # noqa: S308
_EMPTY_ACTIONS = mark_safe('<td class="cell-actions"></td>')  # noqa: S308
_NEEDS_APPROVAL = mark_safe(  # noqa: S308
    ' <span class="badge" title="Someone else approves it">Needs approval</span>'
)


def _month_day(day: date | datetime) -> str:
    """ "Mar 7": the month's short name and the day without a leading zero."""
    return f"{day:%b} {day.day}"


@cache
def move_options(moves: tuple[str, ...]) -> SafeString:
    """A card's "Move to" choices, made once per set of moves (a board has a
    few hundred cards and only a handful of different menus)."""
    return format_html_join(
        "",
        '<option value="{}">{}</option>',
        ((m, choice_label(TaskStatus, m)) for m in moves),
    )


# The board's card -------------------------------------------------------------------


@lru_cache(maxsize=16)
def _card_classes(priority: str, overdue: bool) -> SafeString:
    return format_html(
        "card priority-{}{}", priority, " card-overdue" if overdue else ""
    )


@lru_cache(maxsize=16)
def _card_priority(priority: str) -> SafeString:
    if priority == Priority.NORMAL:
        return _NOTHING
    return format_html(
        '<span class="priority priority-{}">{}</span>',
        priority,
        choice_label(Priority, priority),
    )


def assignee_html(name: str) -> SafeString:
    """The card's assignee (avatar letter and name). A board has a handful of
    assignees for a hundred cards: the view makes each once per request."""
    if not name:
        return _UNASSIGNED
    return format_html(
        '<span class="avatar avatar-small" aria-hidden="true">{}</span> {}',
        name[:1].upper(),
        name,
    )


@lru_cache(maxsize=4096)
def _card_due(due: date, overdue: bool) -> SafeString:
    return format_html(
        '<time datetime="{}" class="card-due{}">{}{}</time>',
        due.isoformat(),
        " overdue-text" if overdue else "",
        "Overdue · " if overdue else "",
        _month_day(due),
    )


@lru_cache(maxsize=4096)
def _card_done(day: date) -> SafeString:
    return format_html('<span class="muted">Done {}</span>', _month_day(day))


def _card_when(task: Task, *, overdue: bool, zone: tzinfo) -> SafeString:
    """When it was done (a completed card) or is due (red when overdue)."""
    if task.status == TaskStatus.COMPLETED and task.completed_at is not None:
        return _card_done(timezone.localtime(task.completed_at, zone).date())
    if task.due_date is None:
        return _NOTHING
    return _card_due(task.due_date, overdue)


def _card_meta(task: Task, *, client_url: str, execution_url: str) -> SafeString:
    """The card's client and workflow links (one call when it has both)."""
    if client_url and execution_url:
        return format_html(
            '<div class="card-meta"><a href="{}">{}</a>'
            '<a class="muted" href="{}">{}</a></div>',
            client_url,
            task.client.display_name,
            execution_url,
            task.execution.name,
        )
    if client_url:
        return format_html(
            '<div class="card-meta"><a href="{}">{}</a></div>',
            client_url,
            task.client.display_name,
        )
    if execution_url:
        return format_html(
            '<div class="card-meta"><a class="muted" href="{}">{}</a></div>',
            execution_url,
            task.execution.name,
        )
    return _NOTHING


# A card: {0} classes, {1} uuid, {2} status, {3} move URL, {4} draggable, {5} URL,
# {6} title, {7} client and workflow, {8} assignee, {9} when, {10} priority, and
# with the "Move to" menu (keyboard, no JavaScript) {11} CSRF, {12} back, {13} options.
_CARD_HEAD = (
    '<li class="{0}" id="card-{1}" data-card data-status="{2}" data-move-url="{3}"{4}'
    ' data-testid="board-card"><a class="card-title" href="{5}">{6}</a>{7}'
    '<div class="card-foot"><span class="card-assignee">{8}</span>{9}{10}</div>'
)
_CARD = _CARD_HEAD + "</li>"
_CARD_WITH_MENU = (
    _CARD_HEAD + '<form method="post" action="{3}" class="card-move" data-card-move>'
    '{11}<input type="hidden" name="next" value="{12}">'
    '<select name="status" aria-label="Move “{6}” to" required>'
    '<option value="">Move to…</option>{13}</select>'
    '<button class="btn btn-small" type="submit">Move</button></form></li>'
)


def card_html(
    task: Task,
    *,
    url: str,
    move_url: str,
    client_url: str,
    execution_url: str,
    who: SafeString,
    today: date,
    zone: tzinfo,
    options: str,
    csrf: str,
    back: str,
) -> SafeString:
    """One card: title, client and workflow, assignee, due date (red when
    overdue), priority, and the "Move to" menu when the member may move it.

    `who` (assignee_html), `options` (move_options) and `csrf` are safe HTML
    already; every other value is escaped by format_html."""
    overdue = task.overdue_on(today)
    values = (
        _card_classes(task.priority, overdue),
        SafeString(task.uuid),  # hex digits and hyphens: nothing to escape
        _STATUS_CODES.get(task.status, task.status),
        move_url,
        _DRAGGABLE if options else _NOTHING,
        url,
        task.title,
        _card_meta(task, client_url=client_url, execution_url=execution_url),
        who,
        _card_when(task, overdue=overdue, zone=zone),
        _card_priority(task.priority),
    )
    if options:
        return format_html(_CARD_WITH_MENU, *values, csrf, back, options)
    return format_html(_CARD, *values)


# My work's row ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _row_when(due: date | None, overdue: bool) -> SafeString:
    if due is None:
        return _NO_DATE
    return format_html(
        '<time datetime="{}"{}>{} {}</time>',
        due.isoformat(),
        _OVERDUE_TEXT if overdue else "",
        f"{due:%a}",
        _month_day(due),
    )


@lru_cache(maxsize=64)
def _row_badges(status: str, priority: str) -> SafeString:
    """The status and priority cells."""
    return format_html(
        '<td><span class="badge badge-task-{}">{}</span></td>'
        '<td><span class="priority priority-{}">{}</span></td>',
        status,
        choice_label(TaskStatus, status),
        priority,
        choice_label(Priority, priority),
    )


def _row_note(*, error: str, done: str) -> SafeString | str:
    """What a quick action just did, or why it was refused (htmx answers)."""
    if error:
        return format_html(
            '<div class="error" role="alert" data-testid="row-error">{}</div>', error
        )
    if done:
        return format_html('<div class="help" role="status">{}</div>', done)
    return ""


@lru_cache(maxsize=64)
def _row_buttons(actions: tuple[tuple[str, str], ...]) -> SafeString:
    return format_html_join(
        "",
        '<button class="btn btn-small{}" type="submit" name="status" value="{}">'
        "{}</button>",
        (
            (" btn-primary" if status == TaskStatus.COMPLETED else "", status, label)
            for status, label in actions
        ),
    )


def _row_actions(task: Task, *, move_url: str, csrf: str, here: str) -> SafeString:
    """The quick-action form (its buttons: `task.quick_actions`), in its cell."""
    if not task.quick_actions:
        return _EMPTY_ACTIONS
    return format_html(
        '<td class="cell-actions"><form method="post" action="{0}" class="inline-form"'
        ' hx-post="{0}" hx-target="closest tr" hx-swap="outerHTML">{1}'
        '<input type="hidden" name="next" value="{2}">{3}</form></td>',
        move_url,
        csrf,
        here,
        _row_buttons(tuple(task.quick_actions)),
    )


def _row_links(*, client_url: str, execution_url: str, task: Task) -> SafeString:
    """The client and workflow cells."""
    if client_url and execution_url:
        return format_html(
            '<td><a href="{}">{}</a></td><td><a href="{}">{}</a></td>',
            client_url,
            task.client.display_name,
            execution_url,
            task.execution.name,
        )
    return format_html(
        "<td>{}</td><td>{}</td>",
        format_html('<a href="{}">{}</a>', client_url, task.client.display_name)
        if client_url
        else _FIRM_TASK,
        format_html('<a href="{}">{}</a>', execution_url, task.execution.name)
        if execution_url
        else _AD_HOC,
    )


def row_html(
    task: Task,
    *,
    url: str,
    move_url: str,
    client_url: str,
    execution_url: str,
    can_act: bool,
    csrf: str,
    here: str,
    error: str = "",
    done: str = "",
) -> SafeString:
    """One row of My work (also the htmx answer to a quick action): due date,
    title, client, workflow, status, priority, and the quick actions when the
    member may act. `task.bucket` and `task.quick_actions` are set by the view;
    `csrf` is safe HTML already."""
    overdue = task.bucket == "overdue"
    return format_html(
        '<tr class="task-row{}" id="task-{}" data-testid="my-work-row">'
        '<td class="nowrap">{}</td><td><a href="{}">{}</a>{}{}</td>{}{}{}</tr>',
        " overdue" if overdue else "",
        task.uuid,
        _row_when(task.due_date, overdue),
        url,
        task.title,
        _NEEDS_APPROVAL if task.needs_approval else "",
        _row_note(error=error, done=done),
        _row_links(client_url=client_url, execution_url=execution_url, task=task),
        _row_badges(task.status, task.priority),
        _row_actions(task, move_url=move_url, csrf=csrf, here=here) if can_act else "",
    )
