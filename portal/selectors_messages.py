"""Reads of the secure messages: a page of a thread, the threads a contact sees,
the firm's inbox. Each is a fixed number of queries whatever the rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, Count, Max, Prefetch, Q, QuerySet, Value, When

from advisoros.pagination import KeysetPage, keyset_page
from advisoros.tenancy.models import Organization
from clients.models import Client
from portal.models import Message, MessageAttachment

THREAD_PAGE = 30
INBOX_PAGE = 50

# A client's message the firm has not opened yet (the partial index
# message_unread_by_firm holds exactly these rows).
UNREAD_BY_FIRM = Q(from_client=True, read_at__isnull=True)
UNREAD_BY_CLIENT = Q(from_client=False, read_at__isnull=True)


def thread_page(client: Client, *, cursor: str | None) -> KeysetPage:
    """The newest messages of the client's thread, oldest first on the page;
    `next_cursor` leads to older ones, `prev_cursor` back to newer ones.
    Two queries: the messages with their senders, then their attachments."""
    messages = (
        Message.objects.filter(organization_id=client.organization_id, client=client)
        .select_related("sender_contact", "sender_user")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=MessageAttachment.objects.select_related("document").order_by(
                    "id"
                ),
            )
        )
    )
    page = keyset_page(
        messages,
        keys=("created_at", "id"),
        descending=True,
        cursor=cursor,
        size=THREAD_PAGE,
    )
    page.rows.reverse()  # a conversation reads downwards
    return page


def thread_summaries(
    organization: Organization, client_ids: Iterable[int]
) -> dict[int, dict]:
    """For the portal's list of threads: each client's last message time and the
    firm's messages its contacts have not read, by client id (one query)."""
    rows = (
        Message.objects.filter(organization=organization, client_id__in=client_ids)
        .values("client_id")
        .annotate(
            last_at=Max("created_at"), unread=Count("id", filter=UNREAD_BY_CLIENT)
        )
        .order_by()
    )
    return {row["client_id"]: row for row in rows}


def inbox_page(
    organization: Organization,
    *,
    visible: QuerySet[Client] | None,
    cursor: str | None,
) -> KeysetPage:
    """The firm's threads: those with messages the firm has not read first, then
    the most recent. `visible` limits them to the clients a member may see
    (None: every client). Rows are dicts with `client`, `last_at` and `unread`.
    Two queries: the grouped messages of the page, then its clients."""
    threads = Message.objects.filter(organization=organization)
    if visible is not None:
        threads = threads.filter(client__in=visible)
    threads = threads.values("client_id").annotate(
        unread=Count("id", filter=UNREAD_BY_FIRM),
        has_unread=Max(Case(When(UNREAD_BY_FIRM, then=Value(1)), default=Value(0))),
        last_at=Max("created_at"),
    )
    page = keyset_page(
        threads,
        keys=("has_unread", "last_at", "client_id"),
        descending=True,
        cursor=cursor,
        size=INBOX_PAGE,
    )
    clients = Client.objects.filter(organization=organization).in_bulk(
        [row["client_id"] for row in page.rows]
    )
    for row in page.rows:
        row["client"] = clients[row["client_id"]]
    return page
