"""Reads of tasks and workflows, always through what the member may see.

Every page that lists tasks or executions starts here (My work, the board, the
workload page, the client page's Workflows tab, the workflow list). The rule
follows the clients app's: with the firm's "staff see only their clients"
setting, staff and read-only members see the work of the clients they are
assigned to (partner, manager or staff), plus:

- tasks without a client (the firm's own ad-hoc work), which everyone in the
  firm sees;
- tasks assigned to them, whatever the client: a person must see the work they
  are asked to do (the client's name shows on the task; the client page itself
  stays closed to them).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce

from advisoros.http import is_uuid
from advisoros.tenancy.models import Membership
from advisoros.tenancy.request import OrgRequest
from clients.models import OPEN_ENGAGEMENT_STATUSES, Client, ClientStatus
from clients.selectors import sees_assigned_only, visible_clients, visible_engagements
from clients.services.search import clients_matching
from workflows.models import (
    CLOSED_STATUSES,
    Task,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)

# A task without a due date sorts after every dated one. Keyset pages compare
# (due_sort, id) tuples, and a NULL there compares as unknown and would drop
# those rows, hence the stand-in date; 0003_pages indexes this very expression.
NO_DUE_DATE = date(9999, 12, 31)

# The statuses a person works on (pending tasks still wait for others).
ACTIONABLE_STATUSES = (
    TaskStatus.READY,
    TaskStatus.IN_PROGRESS,
    TaskStatus.IN_REVIEW,
)


def due_sort() -> Coalesce:
    """The due date with undated tasks last (matches the indexes of 0003_pages)."""
    return Coalesce("due_date", Value(NO_DUE_DATE))


def _assigned_clients(membership: Membership) -> QuerySet[Client]:
    user_id = membership.user_id
    return Client.objects.filter(
        Q(partner_id=user_id) | Q(manager_id=user_id) | Q(staff_id=user_id),
        organization_id=membership.organization_id,
    ).values("pk")


def tasks_visible_to(membership: Membership) -> QuerySet[Task]:
    """The tasks of the member's firm that the member may see (see the module doc)."""
    qs = Task.objects.filter(organization_id=membership.organization_id)
    if sees_assigned_only(membership):
        qs = qs.filter(
            Q(client__isnull=True)
            | Q(assignee_id=membership.user_id)
            | Q(client_id__in=_assigned_clients(membership))
        )
    return qs


def visible_tasks(request: OrgRequest) -> QuerySet[Task]:
    return tasks_visible_to(request.membership)


def executions_visible_to(membership: Membership) -> QuerySet[WorkflowExecution]:
    """The firm's workflows the member may see: with assigned-only, those of their
    clients (an execution always has a client)."""
    qs = WorkflowExecution.objects.filter(organization_id=membership.organization_id)
    if sees_assigned_only(membership):
        qs = qs.filter(client_id__in=_assigned_clients(membership))
    return qs


def visible_executions(request: OrgRequest) -> QuerySet[WorkflowExecution]:
    return executions_visible_to(request.membership)


def open_tasks(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.exclude(status__in=CLOSED_STATUSES)


def capped_counts(querysets: dict[str, QuerySet], *, cap: int) -> dict[str, int]:
    """How many rows each queryset has, counting at most `cap + 1`, in one query.

    An exact count reads every matching row, so it grows with the firm: a big
    firm's 41,213 open tasks cost a scan per page view, where "more than 1,000"
    costs a bounded index range. A result above `cap` means "more than cap"."""
    selects, params = [], []
    for qs in querysets.values():
        capped = qs.order_by().values("pk")[: cap + 1]
        try:
            sql, args = capped.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (qs.none())
            selects.append("0")
            continue
        # Django's own SQL with its parameters kept apart: nothing typed is inlined.
        selects.append(f"(SELECT count(*) FROM ({sql}) AS capped)")  # noqa: S608
        params.extend(args)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)  # noqa: S608
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


# A start form lists every client of a firm up to this many; a larger firm finds
# its client first (the client list's search), then picks among the matches.
CLIENT_CHOICES_CAP = 200


def start_choices(request: OrgRequest, client_key: str, find: str = "") -> dict:
    """What a form that starts work for a client offers: the firm's active
    templates, the clients the member sees, and the chosen client's open
    engagements (four queries at most, whatever the firm's size).

    Clients: every visible, not archived one while there are at most
    CLIENT_CHOICES_CAP; beyond that, those matching `find` (the client list's
    search: name, code, contact, email, last four of the tax id), at most
    CLIENT_CHOICES_CAP of them, and `client_search` tells the form to offer the
    search box. A chosen client (`client_key`) is always among the choices."""
    # Query: the active templates.
    templates = list(
        WorkflowTemplate.objects.filter(
            organization=request.organization, is_active=True
        ).order_by("name")
    )
    # Query: the clients the member sees (not archived), by name, one past the cap.
    find = find.strip()[:200]
    visible = visible_clients(request).exclude(status=ClientStatus.ARCHIVED)
    listed = clients_matching(visible, find) if find else visible
    rows = list(
        listed.order_by("sort_name", "id").values_list(
            "uuid", "display_name", "client_code"
        )[: CLIENT_CHOICES_CAP + 1]
    )
    client_search = bool(find) or len(rows) > CLIENT_CHOICES_CAP
    rows = rows[:CLIENT_CHOICES_CAP]
    if is_uuid(client_key) and client_key not in {str(r[0]) for r in rows}:
        # Query (a chosen client the list does not show): that client alone.
        rows = [
            *visible.filter(uuid=client_key).values_list(
                "uuid", "display_name", "client_code"
            ),
            *rows,
        ]
    clients = [(str(uuid), f"{name} ({code})") for uuid, name, code in rows]
    engagements = []
    if client_key and client_key in {key for key, _ in clients}:
        # Query (once a client is chosen): its open engagements.
        engagements = list(
            visible_engagements(request)
            .filter(client__uuid=client_key)
            .filter(status__in=OPEN_ENGAGEMENT_STATUSES)
            .order_by("-tax_year", "name")
        )
    return {
        "templates": templates,
        "clients": clients,
        "engagements": engagements,
        "client_search": client_search,
        "find": find,
    }
