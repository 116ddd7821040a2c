"""What "overdue" means, for every dated piece of work a firm tracks.

An engagement, a workflow, a task and a requested document are overdue when
their due date is before the firm's today (advisoros.tenancy.clock.firm_today)
and they are still open. Each model names its own open statuses once, beside
its status choices; the rule lives here, in the two forms pages need (SQL for
filters, counts and annotations; Python for rows already loaded), so a badge
and the filter that finds it never disagree. Work without a due date is never
overdue.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.db.models import BooleanField, ExpressionWrapper, Q


def overdue_q(
    today: date,
    open_statuses: Collection[str],
    *,
    prefix: str = "",
    due: str = "due_date",
) -> Q:
    """The rows overdue on `today`. `prefix` reaches through a relation
    ("items__"); `due` names a stored stand-in of the due date where an index
    is built on one (due_sort: undated rows carry a far-future date, so they
    are never before today either)."""
    return Q(
        **{f"{prefix}{due}__lt": today, f"{prefix}status__in": list(open_statuses)}
    )


def overdue_expression(
    today: date, open_statuses: Collection[str], **kwargs: str
) -> ExpressionWrapper:
    """overdue_q as a boolean column, for lists that mark overdue rows."""
    return ExpressionWrapper(
        overdue_q(today, open_statuses, **kwargs), output_field=BooleanField()
    )


def is_overdue(
    due_date: date | None, status: str, *, today: date, open_statuses: Collection[str]
) -> bool:
    """overdue_q for one loaded row."""
    return due_date is not None and due_date < today and status in open_statuses
