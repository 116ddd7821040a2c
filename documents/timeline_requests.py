"""Document request events on the client timeline (clients.timeline registry):
requests sent, items accepted or rejected, requests completed. One source, one
UNION ALL query, newest first.

An item shows its latest review only (an item rejected and later accepted shows
as accepted); the change log keeps every step.
"""

from __future__ import annotations

from django.db.models import CharField, F, Value

from advisoros.row_urls import row_url
from clients.models import Client
from clients.timeline import TimelineItem, register_timeline_source
from documents.models import DocumentRequest, DocumentRequestItem

# Every part of the UNION reads the same columns, in this order.
COLUMNS = (
    "kind",
    "when",
    "title",
    "request_uuid",
    "request_title",
    "who_name",
    "who_email",
    "note",
)
REVIEWED = (DocumentRequestItem.Status.ACCEPTED, DocumentRequestItem.Status.REJECTED)


def _no_text() -> Value:
    return Value(None, output_field=CharField())


@register_timeline_source
def request_items(client: Client, *, viewer, limit: int):
    org_id = client.organization_id
    requests = DocumentRequest.objects.filter(organization_id=org_id, client=client)
    created = (
        requests.annotate(
            kind=Value("created"),
            when=F("created_at"),
            request_uuid=F("uuid"),
            request_title=F("title"),
            who_name=F("created_by__name"),
            who_email=F("created_by__email"),
            note=F("message"),
        )
        .values_list(*COLUMNS)
        .order_by("-created_at")[:limit]
    )
    completed = (
        requests.filter(completed_at__isnull=False)
        .annotate(
            kind=Value("completed"),
            when=F("completed_at"),
            request_uuid=F("uuid"),
            request_title=F("title"),
            who_name=_no_text(),
            who_email=_no_text(),
            note=_no_text(),
        )
        .values_list(*COLUMNS)
        .order_by("-completed_at")[:limit]
    )
    reviewed = (
        DocumentRequestItem.objects.filter(
            organization_id=org_id,
            request__client=client,
            status__in=REVIEWED,
            reviewed_at__isnull=False,
        )
        .annotate(
            kind=F("status"),
            when=F("reviewed_at"),
            request_uuid=F("request__uuid"),
            request_title=F("request__title"),
            who_name=F("reviewed_by__name"),
            who_email=F("reviewed_by__email"),
            note=F("rejection_reason"),
        )
        .values_list(*COLUMNS)
        .order_by("-reviewed_at")[:limit]
    )
    rows = created.union(completed, reviewed, all=True).order_by("-when")[:limit]
    url = row_url(
        "documents:request_detail", "request_uuid", org_slug=viewer.organization.slug
    )
    for kind, when, title, request_uuid, request_title, name, email, note in rows:
        who = name or email or ""
        if kind == "created":
            yield TimelineItem(
                when=when,
                kind="request",
                title=f"Documents requested: {title}",
                detail=(note or "")[:280],
                actor=who,
                url=url(request_uuid),
            )
        elif kind == "completed":
            yield TimelineItem(
                when=when,
                kind="request",
                title=f"Document request complete: {title}",
                detail="Every requested item was received and accepted.",
                url=url(request_uuid),
            )
        elif kind == DocumentRequestItem.Status.ACCEPTED:
            yield TimelineItem(
                when=when,
                kind="request",
                title=f"Requested document accepted: {title}",
                detail=f"For “{request_title}”",
                actor=who,
                url=url(request_uuid),
            )
        else:
            yield TimelineItem(
                when=when,
                kind="request",
                title=f"Requested document rejected: {title}",
                detail=f"For “{request_title}”: {note}",
                actor=who,
                url=url(request_uuid),
            )
