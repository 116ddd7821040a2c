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
from functools import cache

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from workflows.models import Priority, Task, TaskStatus

PRIORITY_LABELS = dict(Priority.choices)
STATUS_LABELS = dict(TaskStatus.choices)

_UNASSIGNED = mark_safe('<span class="muted">Unassigned</span>')  # noqa: S308
_NO_DATE = mark_safe('<span class="muted">—</span>')  # noqa: S308
_FIRM_TASK = mark_safe('<span class="muted">Firm task</span>')  # noqa: S308
_AD_HOC = mark_safe('<span class="muted">Ad hoc</span>')  # noqa: S308
_DRAGGABLE = mark_safe(' draggable="true"')  # noqa: S308
_OVERDUE_TEXT = mark_safe(' class="overdue-text"')  # noqa: S308
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
        "", '<option value="{}">{}</option>', ((m, STATUS_LABELS[m]) for m in moves)
    )


# The board's card -------------------------------------------------------------------


def _card_meta(task: Task, *, client_url: str, execution_url: str) -> str:
    if not (client_url or execution_url):
        return ""
    client = (
        format_html('<a href="{}">{}</a>', client_url, task.client.display_name)
        if client_url
        else ""
    )
    workflow = (
        format_html(
            '<a class="muted" href="{}">{}</a>', execution_url, task.execution.name
        )
        if execution_url
        else ""
    )
    return format_html('<div class="card-meta">{}{}</div>', client, workflow)


def _card_when(task: Task, *, overdue: bool, zone: tzinfo) -> str:
    """When it was done (a completed card) or is due (red when overdue)."""
    if task.status == TaskStatus.COMPLETED and task.completed_at is not None:
        done = timezone.localtime(task.completed_at, zone)
        return format_html('<span class="muted">Done {}</span>', _month_day(done))
    if task.due_date is None:
        return ""
    return format_html(
        '<time datetime="{}" class="card-due{}">{}{}</time>',
        task.due_date.isoformat(),
        " overdue-text" if overdue else "",
        "Overdue · " if overdue else "",
        _month_day(task.due_date),
    )


def _card_menu(task: Task, *, move_url: str, options: str, csrf: str, back: str) -> str:
    """The keyboard's (and no-JavaScript) "Move to" form."""
    if not options:
        return ""
    return format_html(
        '<form method="post" action="{}" class="card-move" data-card-move>{}'
        '<input type="hidden" name="next" value="{}">'
        '<select name="status" aria-label="Move “{}” to" required>'
        '<option value="">Move to…</option>{}</select>'
        '<button class="btn btn-small" type="submit">Move</button></form>',
        move_url,
        csrf,
        back,
        task.title,
        options,
    )


def card_html(
    task: Task,
    *,
    url: str,
    move_url: str,
    client_url: str,
    execution_url: str,
    assignee: str,
    today: date,
    zone: tzinfo,
    options: str,
    csrf: str,
    back: str,
) -> SafeString:
    """One card: title, client and workflow, assignee, due date (red when
    overdue), priority, and the "Move to" menu when the member may move it.

    `options` (move_options) and `csrf` are safe HTML already; every other
    value is escaped by format_html."""
    overdue = (
        task.due_date is not None
        and task.due_date < today
        and task.status != TaskStatus.COMPLETED
    )
    who = (
        format_html(
            '<span class="avatar avatar-small" aria-hidden="true">{}</span> {}',
            assignee[:1].upper(),
            assignee,
        )
        if assignee
        else _UNASSIGNED
    )
    priority = (
        format_html(
            '<span class="priority priority-{}">{}</span>',
            task.priority,
            PRIORITY_LABELS.get(task.priority, task.priority),
        )
        if task.priority != Priority.NORMAL
        else ""
    )
    return format_html(
        '<li class="card priority-{}{}" id="card-{}" data-card data-status="{}"'
        ' data-move-url="{}"{} data-testid="board-card">'
        '<a class="card-title" href="{}">{}</a>{}'
        '<div class="card-foot"><span class="card-assignee">{}</span>{}{}</div>'
        "{}</li>",
        task.priority,
        " card-overdue" if overdue else "",
        task.uuid,
        task.status,
        move_url,
        _DRAGGABLE if options else "",
        url,
        task.title,
        _card_meta(task, client_url=client_url, execution_url=execution_url),
        who,
        _card_when(task, overdue=overdue, zone=zone),
        priority,
        _card_menu(task, move_url=move_url, options=options, csrf=csrf, back=back),
    )


# My work's row ----------------------------------------------------------------------


def _row_when(task: Task, *, overdue: bool) -> str:
    if task.due_date is None:
        return _NO_DATE
    due = task.due_date
    return format_html(
        '<time datetime="{}"{}>{} {}</time>',
        due.isoformat(),
        _OVERDUE_TEXT if overdue else "",
        f"{due:%a}",
        _month_day(due),
    )


def _row_note(*, error: str, done: str) -> str:
    """What a quick action just did, or why it was refused (htmx answers)."""
    if error:
        return format_html(
            '<div class="error" role="alert" data-testid="row-error">{}</div>', error
        )
    if done:
        return format_html('<div class="help" role="status">{}</div>', done)
    return ""


def _row_actions(task: Task, *, move_url: str, csrf: str, here: str) -> str:
    """The quick-action form (its buttons: `task.quick_actions`), in its cell."""
    buttons = format_html_join(
        "",
        '<button class="btn btn-small{}" type="submit" name="status" value="{}">'
        "{}</button>",
        (
            (" btn-primary" if status == TaskStatus.COMPLETED else "", status, label)
            for status, label in task.quick_actions
        ),
    )
    form = (
        format_html(
            '<form method="post" action="{}" class="inline-form" hx-post="{}"'
            ' hx-target="closest tr" hx-swap="outerHTML">{}'
            '<input type="hidden" name="next" value="{}">{}</form>',
            move_url,
            move_url,
            csrf,
            here,
            buttons,
        )
        if buttons
        else ""
    )
    return format_html('<td class="cell-actions">{}</td>', form)


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
    client = (
        format_html('<a href="{}">{}</a>', client_url, task.client.display_name)
        if client_url
        else _FIRM_TASK
    )
    workflow = (
        format_html('<a href="{}">{}</a>', execution_url, task.execution.name)
        if execution_url
        else _AD_HOC
    )
    return format_html(
        '<tr class="task-row{}" id="task-{}" data-testid="my-work-row">'
        '<td class="nowrap">{}</td>'
        '<td><a href="{}">{}</a>{}{}</td>'
        "<td>{}</td><td>{}</td>"
        '<td><span class="badge badge-task-{}">{}</span></td>'
        '<td><span class="priority priority-{}">{}</span></td>'
        "{}</tr>",
        " overdue" if overdue else "",
        task.uuid,
        _row_when(task, overdue=overdue),
        url,
        task.title,
        _NEEDS_APPROVAL if task.needs_approval else "",
        _row_note(error=error, done=done),
        client,
        workflow,
        task.status,
        STATUS_LABELS.get(task.status, task.status),
        task.priority,
        PRIORITY_LABELS.get(task.priority, task.priority),
        _row_actions(task, move_url=move_url, csrf=csrf, here=here) if can_act else "",
    )
