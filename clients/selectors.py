"""Reads of clients and engagements, always through what the member may see."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from advisoros.http import is_uuid
from advisoros.pagination import KeysetPage, keyset_page
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from clients.models import (
    Client,
    ClientContact,
    ClientSearchToken,
    ClientStatus,
    ClientTag,
    Contact,
    Engagement,
    Note,
)
from clients.services.search import clients_matching, prefix_range, search_terms

PAGE_SIZE = 50

# sort name -> (keyset keys, descending)
CLIENT_SORTS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "name": (("sort_name", "id"), False, "Name A–Z"),
    "-name": (("sort_name", "id"), True, "Name Z–A"),
    "newest": (("created_at", "id"), True, "Newest first"),
    "oldest": (("created_at", "id"), False, "Oldest first"),
    "code": (("client_code", "id"), False, "Client code"),
}


def sees_assigned_only(membership: Membership) -> bool:
    """The firm's "staff see only their clients" setting binds staff and read-only."""
    return membership.organization.assigned_clients_only and not membership.has_role(
        Role.MANAGER
    )


def visible_clients(request: OrgRequest) -> QuerySet[Client]:
    """Every client page, search and export starts here."""
    qs = Client.objects.filter(organization=request.organization)
    if sees_assigned_only(request.membership):
        user = request.user
        qs = qs.filter(Q(partner=user) | Q(manager=user) | Q(staff=user))
    return qs


def get_client_or_404(request: OrgRequest, client_uuid) -> Client:
    """A client the member may see; another firm's or an unassigned one is a 404."""
    return get_object_or_404(visible_clients(request), uuid=client_uuid)


def visible_engagements(request: OrgRequest) -> QuerySet[Engagement]:
    qs = Engagement.objects.filter(organization=request.organization)
    if sees_assigned_only(request.membership):
        user = request.user
        qs = qs.filter(
            Q(client__partner=user)
            | Q(client__manager=user)
            | Q(client__staff=user)
            | Q(partner=user)
            | Q(manager=user)
            | Q(preparer=user)
            | Q(reviewer=user)
        )
    return qs


@dataclass
class ClientFilters:
    """The client list's filters, read from (and written back to) the URL."""

    q: str = ""
    status: str = ""
    entity_type: str = ""
    assigned: str = ""  # a member's user uuid, or "me"
    tag: str = ""  # a tag uuid
    sort: str = "name"
    cursor: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: QueryDict) -> ClientFilters:
        f = cls(
            q=params.get("q", "").strip()[:200],
            status=params.get("status", ""),
            entity_type=params.get("entity_type", ""),
            assigned=params.get("assigned", ""),
            tag=params.get("tag", ""),
            sort=params.get("sort", "name"),
            cursor=params.get("cursor", ""),
        )
        if f.sort not in CLIENT_SORTS:
            f.sort = "name"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.status, self.entity_type, self.assigned, self.tag))


def filter_clients(request: OrgRequest, f: ClientFilters) -> QuerySet[Client]:
    from clients.models import EntityType

    qs = visible_clients(request)
    if f.status in ClientStatus.values:
        qs = qs.filter(status=f.status)
    elif f.status != "all":
        qs = qs.exclude(
            status=ClientStatus.ARCHIVED
        )  # archived clients only on request
    if f.entity_type in EntityType.values:
        qs = qs.filter(entity_type=f.entity_type)
    if f.assigned:
        user_filter = (
            Q(user=request.user)
            if f.assigned == "me"
            else Q(user__uuid=f.assigned if is_uuid(f.assigned) else None)
        )
        member = Membership.objects.filter(
            user_filter, organization=request.organization
        ).values("user_id")
        qs = qs.filter(
            Q(partner__in=member) | Q(manager__in=member) | Q(staff__in=member)
        )
    if f.tag and is_uuid(f.tag):
        qs = qs.filter(
            pk__in=ClientTag.objects.filter(
                organization=request.organization, tag__uuid=f.tag
            ).values("client_id")
        )
    if f.q:
        qs = clients_matching(qs, f.q)
    return qs


ASSIGNMENT_ROLES = ("partner", "manager", "staff")
# What a list row shows, and the sort keys. Loading whole clients (30 columns,
# a Fernet decryption of the tax id) and whole users costs milliseconds a page;
# a column missing here turns into a query per row (the list's query-count
# test catches it).
LIST_COLUMNS = (
    "uuid",
    "organization_id",
    "created_at",
    "client_code",
    "display_name",
    "legal_name",
    "sort_name",
    "entity_type",
    "status",
    "tax_id_last4",
    *(f"{role}__{field}" for role in ASSIGNMENT_ROLES for field in ("name", "email")),
)


def client_page(
    request: OrgRequest, f: ClientFilters, *, size: int = PAGE_SIZE
) -> KeysetPage:
    page = _one_word_search_page(request, f, size=size)
    if page is not None:
        return page
    keys, descending, _ = CLIENT_SORTS[f.sort]
    return keyset_page(
        _listed(filter_clients(request, f)),
        keys=keys,
        descending=descending,
        cursor=f.cursor or None,
        size=size,
    )


def _listed(qs: QuerySet[Client]) -> QuerySet[Client]:
    return (
        qs.select_related(*ASSIGNMENT_ROLES)
        # A list, not the related manager: Django would build a queryset per row.
        .prefetch_related(Prefetch("tags", to_attr="tag_list"))
        .only(*LIST_COLUMNS)
    )


def _one_word_search_page(
    request: OrgRequest, f: ClientFilters, *, size: int
) -> KeysetPage | None:
    """A one-word search in name order, pages from the search tokens alone.

    The general path walks clients in name order and probes each one's tokens,
    so a common prefix ("smi" matches 2% of a big firm) costs thousands of
    probes. Each token carries its client's sort key and archived state, so
    this page is one index range over the tokens, then the page's clients by
    primary key. Its cursors are the general path's (sort name, id). Any other
    filter, sort or the assigned-only rule takes the general path.
    """
    terms = search_terms(f.q)
    if (
        len(terms) != 1
        or f.sort not in ("name", "-name")
        or f.status not in ("", "all", ClientStatus.ARCHIVED)
        or f.entity_type
        or f.assigned
        or f.tag
        or sees_assigned_only(request.membership)
    ):
        return None
    low, high = prefix_range(terms[0])
    tokens = ClientSearchToken.objects.filter(
        organization=request.organization, token__gte=low, token__lt=high
    )
    if f.status == ClientStatus.ARCHIVED:
        tokens = tokens.filter(archived=True)
    elif f.status != "all":
        tokens = tokens.filter(archived=False)
    page = keyset_page(
        tokens.values("sort_name", "client_id").distinct(),
        keys=("sort_name", "client_id"),
        descending=f.sort == "-name",
        cursor=f.cursor or None,
        size=size,
    )
    ids = [row["client_id"] for row in page.rows]
    clients = _listed(Client.objects.filter(organization=request.organization)).in_bulk(
        ids
    )
    return KeysetPage(
        [clients[pk] for pk in ids if pk in clients], page.next_cursor, page.prev_cursor
    )


def visible_contacts(request: OrgRequest) -> QuerySet[Contact]:
    """The firm's people a member may see: with assigned-only, those of their clients."""
    qs = Contact.objects.filter(organization=request.organization)
    if sees_assigned_only(request.membership):
        qs = qs.filter(
            Exists(
                ClientContact.objects.filter(
                    contact=OuterRef("pk"), client__in=visible_clients(request)
                )
            )
        )
    return qs


def visible_notes(request: OrgRequest) -> QuerySet[Note]:
    """Notes of the clients a member sees; a private note only ever to its author."""
    qs = Note.objects.filter(
        Q(is_private=False) | Q(author=request.user),
        organization=request.organization,
    )
    if sees_assigned_only(request.membership):
        qs = qs.filter(client__in=visible_clients(request))
    return qs
