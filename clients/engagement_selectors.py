"""Reads for the engagement pages, always through what the member may see.

(The client list's reads live in clients/selectors.py; these are the engagement
list's, kept apart so each page's queries are in one place.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import ExpressionWrapper, F, Q, QuerySet
from django.utils.http import urlencode

from advisoros.overdue import overdue_expression, overdue_q
from advisoros.pagination import KeysetPage, keyset_page
from advisoros.tenancy.models import Membership, Organization
from advisoros.tenancy.request import OrgRequest
from clients.models import (
    OPEN_ENGAGEMENT_STATUSES,
    Engagement,
    EngagementStatus,
    Note,
)
from clients.selectors import visible_clients, visible_engagements
from clients.services.search import clients_matching

PAGE_SIZE = 50

# sort name -> (keyset keys, descending, label). `due_sort` is the due date with
# undated engagements last, a stored and indexed column (see clients.models
# NO_DUE_DATE for why), so the default order is an index range scan at any depth.
ENGAGEMENT_SORTS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "due": (("due_sort", "id"), False, "Due date"),
    "client": (("client_sort", "id"), False, "Client name"),
    "newest": (("created_at", "id"), True, "Newest first"),
    "oldest": (("created_at", "id"), False, "Oldest first"),
}

# Status filter values besides the statuses themselves.
STATUS_OPEN = ""  # the default: everything not completed or cancelled
STATUS_OVERDUE = "overdue"
STATUS_ALL = "all"


def active_members(organization: Organization) -> list[Membership]:
    """The firm's active members with their users (one query), for pickers."""
    return list(
        Membership.objects.filter(organization=organization, is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


@dataclass
class EngagementFilters:
    """The list's filters, as cleaned by EngagementFilterForm. Role filters hold
    user ids, already checked to be active members of the firm."""

    q: str = ""
    engagement_type: str = ""
    status: str = STATUS_OPEN
    tax_year: int | None = None
    partner: int | None = None
    manager: int | None = None
    preparer: int | None = None
    mine: bool = False
    sort: str = "due"

    @property
    def active(self) -> bool:
        return any(
            (
                self.q,
                self.engagement_type,
                self.status,
                self.tax_year,
                self.partner,
                self.manager,
                self.preparer,
                self.mine,
            )
        )


def engagement_overdue(today: date) -> ExpressionWrapper:
    """Whether each engagement is overdue, as a column for the list and detail."""
    return overdue_expression(today, OPEN_ENGAGEMENT_STATUSES)


def filter_engagements(
    request: OrgRequest, f: EngagementFilters, *, today: date
) -> QuerySet[Engagement]:
    qs = visible_engagements(request)
    if f.status == STATUS_OVERDUE:
        qs = qs.filter(overdue_q(today, OPEN_ENGAGEMENT_STATUSES))
    elif f.status in EngagementStatus.values:
        qs = qs.filter(status=f.status)
    elif f.status != STATUS_ALL:  # the default: open work only
        qs = qs.filter(status__in=OPEN_ENGAGEMENT_STATUSES)
    if f.engagement_type:
        qs = qs.filter(engagement_type=f.engagement_type)
    if f.tax_year:
        qs = qs.filter(tax_year=f.tax_year)
    for slot in ("partner", "manager", "preparer"):
        user_id = getattr(f, slot)
        if user_id:
            qs = qs.filter(**{f"{slot}_id": user_id})
    if f.mine:
        user = request.user
        qs = qs.filter(
            Q(partner=user) | Q(manager=user) | Q(preparer=user) | Q(reviewer=user)
        )
    if f.q:
        # Found by what their client is found by (name, code, contacts, TIN
        # last four), among the clients this member may see.
        qs = qs.filter(
            client_id__in=clients_matching(visible_clients(request), f.q).values("pk")
        )
    return qs


LIST_PEOPLE = ("partner", "manager", "preparer")
# What a list row shows, and the sort keys: whole engagements, clients (with a
# Fernet decryption of each tax id) and users cost milliseconds a page. A
# column missing here turns into a query per row (the list's query-count test
# catches it).
LIST_COLUMNS = (
    "uuid",
    "organization_id",
    "created_at",
    "name",
    "engagement_type",
    "tax_year",
    "status",
    "priority",
    "due_date",
    "due_sort",
    "client__uuid",
    "client__display_name",
    "client__client_code",
    "client__sort_name",
    *(f"{slot}__{field}" for slot in LIST_PEOPLE for field in ("name", "email")),
)


def engagement_page(
    request: OrgRequest,
    f: EngagementFilters,
    *,
    today: date,
    cursor: str = "",
    size: int = PAGE_SIZE,
) -> KeysetPage:
    keys, descending, _ = ENGAGEMENT_SORTS[f.sort]
    qs = (
        filter_engagements(request, f, today=today)
        .select_related("client", *LIST_PEOPLE)
        .only(*LIST_COLUMNS)
        .annotate(is_overdue=engagement_overdue(today))
    )
    if "client_sort" in keys:
        qs = qs.annotate(client_sort=F("client__sort_name"))
    return keyset_page(
        qs, keys=keys, descending=descending, cursor=cursor or None, size=size
    )


def filters_query(params: dict) -> str:
    """The filters as a query string for links (no cursor, no empty values)."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None, False)})


def engagement_notes(engagement: Engagement, *, viewer_id: int) -> QuerySet[Note]:
    """The engagement's notes a member may read: shared ones and their own private ones."""
    return (
        Note.objects.filter(
            organization_id=engagement.organization_id, engagement=engagement
        )
        .filter(Q(is_private=False) | Q(author_id=viewer_id))
        .select_related("author")
    )
