"""Document requests: the list of what a firm still needs from a client.

An item moves open -> received (something is attached) -> accepted (fulfilled) or
rejected (the client must send it again: rejected -> received -> ...). A request
completes by itself when every item is accepted and can be cancelled while open.

Every write locks the request row first, so two members accepting the last two
items at once cannot both miss that the request is complete, and a cancel cannot
cross an acceptance. Accepting an item sends `documents.signals.request_item_fulfilled`
after the transaction commits.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.overdue import overdue_q
from advisoros.tenancy.models import Membership
from clients.models import Client, Contact, Engagement
from clients.selectors import sees_assigned_only
from documents.models import (
    OWED_STATUSES,
    SERVABLE_SCAN_STATUSES,
    Document,
    DocumentCategory,
    DocumentRequest,
    DocumentRequestItem,
    OutstandingDay,
)
from documents.selectors import client_visibility_q
from documents.signals import (
    request_item_fulfilled,
    request_item_reviewed,
    send_after_commit,
)
from documents.storage import document_file_delete

ItemStatus = DocumentRequestItem.Status
RequestStatus = DocumentRequest.Status

ITEM_FIELDS = ("title", "description", "category", "due_date")
MAX_ITEMS = 100


# Ready-made lists for the create page ("1040 organizer"): (title, category).
REQUEST_TEMPLATES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "1040": (
        "1040 organizer",
        [
            ("W-2s from every employer", DocumentCategory.W2),
            ("1099s (interest, dividends, brokerage, retirement, NEC)", "1099"),
            ("1098 mortgage interest statement", "1098"),
            ("Property tax statements", DocumentCategory.RECEIPT),
            ("Charitable donation receipts", DocumentCategory.RECEIPT),
            ("Prior-year tax return", DocumentCategory.TAX_RETURN),
        ],
    ),
    "business": (
        "Business return",
        [
            ("Year-end bank statements", DocumentCategory.BANK_STATEMENT),
            ("Profit and loss and balance sheet", DocumentCategory.FINANCIAL_STATEMENT),
            ("Payroll reports (941s, W-3)", DocumentCategory.PAYROLL),
            ("1099s issued to contractors", "1099"),
            ("K-1s received", DocumentCategory.K1),
            ("Prior-year business return", DocumentCategory.TAX_RETURN),
        ],
    ),
    "bookkeeping": (
        "Monthly bookkeeping",
        [
            ("Bank statements for the month", DocumentCategory.BANK_STATEMENT),
            ("Credit card statements for the month", DocumentCategory.BANK_STATEMENT),
            ("Receipts over $75", DocumentCategory.RECEIPT),
            ("Invoices sent and received", DocumentCategory.INVOICE),
        ],
    ),
}


# Writes ---------------------------------------------------------------------------


def _clean_item(item: DocumentRequestItem) -> None:
    item.title = (item.title or "").strip()
    item.description = (item.description or "").strip()
    item.category = item.category or ""
    item.full_clean(exclude=["request", "organization"], validate_unique=False)


def _new_item(
    request: DocumentRequest, position: int, data: dict
) -> DocumentRequestItem:
    item = DocumentRequestItem(
        organization_id=request.organization_id,
        request=request,
        position=position,
        **{k: v for k, v in data.items() if k in ITEM_FIELDS},
    )
    _clean_item(item)
    item.save()
    return item


def _locked_request(request_id: int) -> DocumentRequest:
    return DocumentRequest.objects.select_for_update().get(pk=request_id)


def _locked_item(
    item: DocumentRequestItem,
) -> tuple[DocumentRequest, DocumentRequestItem]:
    """The item's request, then the item, locked in that order (every write's order)."""
    request = _locked_request(item.request_id)
    locked = DocumentRequestItem.objects.select_for_update().get(pk=item.pk)
    locked.request = request
    return request, locked


def _require_open(request: DocumentRequest) -> None:
    if request.status != RequestStatus.OPEN:
        raise ValidationError(
            f"This request is {request.get_status_display().lower()}: "
            "it cannot be changed."
        )


def _complete_if_done(request: DocumentRequest) -> bool:
    """Complete the (locked) request when every item is accepted."""
    statuses = set(request.items.values_list("status", flat=True))
    if request.status == RequestStatus.OPEN and statuses == {ItemStatus.ACCEPTED}:
        request.status = RequestStatus.COMPLETED
        request.completed_at = timezone.now()
        request.save(update_fields=["status", "completed_at", "updated_at"])
        return True
    return False


@transaction.atomic
def document_request_create(
    *,
    client: Client,
    engagement: Engagement | None = None,
    title: str,
    message: str = "",
    items: list[dict],
    created_by: User | None,
) -> DocumentRequest:
    """A request with its items (dicts of title, description, category, due_date)."""
    if engagement is not None and engagement.client_id != client.pk:
        raise ValidationError({"engagement": "Choose an engagement of this client."})
    items = [item for item in items if (item.get("title") or "").strip()]
    if not items:
        raise ValidationError("Add at least one item the client should send.")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"A request holds at most {MAX_ITEMS} items.")
    request = DocumentRequest(
        organization_id=client.organization_id,
        client=client,
        engagement=engagement,
        title=(title or "").strip(),
        message=(message or "").strip(),
        created_by=created_by,
    )
    request.full_clean(
        exclude=["organization", "client", "engagement", "created_by"],
        validate_unique=False,
    )
    request.save()
    for position, data in enumerate(items):
        _new_item(request, position, data)
    return request


@transaction.atomic
def document_request_item_add(
    *, request: DocumentRequest, data: dict, by: User | None = None
) -> DocumentRequestItem:
    """Add an item. A completed request opens again: the firm needs one more thing."""
    locked = _locked_request(request.pk)
    if locked.status == RequestStatus.CANCELLED:
        raise ValidationError("This request is cancelled: it cannot be changed.")
    last = locked.items.aggregate(n=Count("id"), last=Max("position"))
    if last["n"] >= MAX_ITEMS:
        raise ValidationError(f"A request holds at most {MAX_ITEMS} items.")
    item = _new_item(locked, (last["last"] or 0) + 1 if last["n"] else 0, data)
    if locked.status == RequestStatus.COMPLETED:
        locked.status = RequestStatus.OPEN
        locked.completed_at = None
        locked.save(update_fields=["status", "completed_at", "updated_at"])
    return item


@transaction.atomic
def document_request_item_update(
    *, item: DocumentRequestItem, data: dict, by: User | None = None
) -> DocumentRequestItem:
    request, locked = _locked_item(item)
    _require_open(request)
    for name, value in data.items():
        if name in ITEM_FIELDS:
            setattr(locked, name, value)
    _clean_item(locked)
    locked.save()
    return locked


@transaction.atomic
def document_request_item_remove(
    *, item: DocumentRequestItem, by: User | None = None
) -> DocumentRequest:
    """Remove an item the firm no longer needs; documents attached to it stay, unlinked.

    The last item cannot be removed (cancel the request instead). Removing the
    only item still owed completes the request."""
    request, locked = _locked_item(item)
    _require_open(request)
    if request.items.count() <= 1:
        raise ValidationError(
            "A request needs at least one item: cancel the request instead."
        )
    locked.delete()
    _complete_if_done(request)
    return request


@transaction.atomic
def document_request_item_attach(
    *, item: DocumentRequestItem, document: Document, by: User | None = None
) -> DocumentRequestItem:
    """Attach one of the client's documents to the item: it is received, to be checked."""
    request, locked = _locked_item(item)
    _require_open(request)
    if document.client_id != request.client_id:
        raise ValidationError("Choose a document of this client.")
    if locked.status == ItemStatus.ACCEPTED:
        raise ValidationError("This item is already accepted.")
    document.request_item = locked
    document.save(update_fields=["request_item", "updated_at"])
    locked.status = ItemStatus.RECEIVED
    locked.received_at = timezone.now()
    locked.save(update_fields=["status", "received_at", "updated_at"])
    return locked


@transaction.atomic
def document_request_upload_withdraw(
    *, document: Document, contact: Contact
) -> DocumentRequestItem:
    """The client takes back their own upload to an item the firm has not accepted:
    the version and its file are deleted; an item left with nothing goes back to
    what it was before (open, or rejected with the firm's reason)."""
    item = document.request_item
    if item is None:
        raise ValidationError("This file was not sent for a request.")
    request, locked = _locked_item(item)
    _require_open(request)
    if locked.status == ItemStatus.ACCEPTED:
        raise ValidationError(
            "The firm has already accepted this item: ask them if a file must change."
        )
    if document.uploaded_by_contact_id != contact.pk or document.source != "portal":
        raise ValidationError("Only the person who uploaded a file can remove it.")
    name = document.file.name
    Document.objects.filter(pk=document.pk).delete()
    transaction.on_commit(partial(document_file_delete, name))
    if not Document.objects.filter(request_item=locked).exists():
        locked.status = (
            ItemStatus.REJECTED if locked.rejection_reason else ItemStatus.OPEN
        )
        locked.received_at = None
        locked.save(update_fields=["status", "received_at", "updated_at"])
    return locked


@transaction.atomic
def document_request_upload_quarantined(
    *, document: Document, reason: str
) -> DocumentRequestItem:
    """An upload the virus scan job quarantined after it was received for an
    item (documents.services.scan) no longer counts for it: an item left with
    nothing goes back to the client with `reason`, as if the firm had rejected it."""
    request, locked = _locked_item(document.request_item)
    document.request_item = None
    document.save(update_fields=["request_item", "updated_at"])
    if (
        locked.status == ItemStatus.RECEIVED
        and not Document.objects.filter(request_item=locked).exists()
    ):
        locked.status = ItemStatus.REJECTED
        locked.rejection_reason = reason[:2000]
        locked.received_at = None
        locked.save(
            update_fields=["status", "rejection_reason", "received_at", "updated_at"]
        )
    return locked


@transaction.atomic
def document_request_item_accept(
    *, item: DocumentRequestItem, by: User | None
) -> DocumentRequestItem:
    """Accept what was received: the item is fulfilled (the signal goes out on commit)."""
    request, locked = _locked_item(item)
    _require_open(request)
    if locked.status != ItemStatus.RECEIVED:
        raise ValidationError(
            "Only a received item can be accepted: attach the client's document first."
        )
    if (
        Document.objects.filter(request_item=locked)
        .exclude(scan_status__in=SERVABLE_SCAN_STATUSES)
        .exists()
    ):
        raise ValidationError(
            "A file sent for this item has not passed the virus check yet: accept"
            " it once it is clean."
        )
    locked.status = ItemStatus.ACCEPTED
    locked.rejection_reason = ""
    locked.reviewed_by = by
    locked.reviewed_at = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "rejection_reason",
            "reviewed_by",
            "reviewed_at",
            "updated_at",
        ]
    )
    _complete_if_done(request)
    transaction.on_commit(
        partial(
            send_after_commit,
            request_item_fulfilled,
            sender=DocumentRequestItem,
            item=locked,
            organization=request.organization,
        )
    )
    _send_reviewed(locked, request)
    return locked


@transaction.atomic
def document_request_item_reject(
    *, item: DocumentRequestItem, by: User | None, reason: str
) -> DocumentRequestItem:
    """Refuse what was received (wrong year, unreadable...): the client sends it again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why, so the client knows what to send instead."}
        )
    request, locked = _locked_item(item)
    _require_open(request)
    if locked.status != ItemStatus.RECEIVED:
        raise ValidationError("Only a received item can be rejected.")
    locked.status = ItemStatus.REJECTED
    locked.rejection_reason = reason[:2000]
    locked.reviewed_by = by
    locked.reviewed_at = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "rejection_reason",
            "reviewed_by",
            "reviewed_at",
            "updated_at",
        ]
    )
    _send_reviewed(locked, request)
    return locked


def _send_reviewed(item: DocumentRequestItem, request: DocumentRequest) -> None:
    transaction.on_commit(
        partial(
            send_after_commit,
            request_item_reviewed,
            sender=DocumentRequestItem,
            item=item,
            organization=request.organization,
        )
    )


@transaction.atomic
def document_request_cancel(
    *, request: DocumentRequest, by: User | None = None
) -> DocumentRequest:
    locked = _locked_request(request.pk)
    _require_open(locked)
    locked.status = RequestStatus.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    return locked


# Reads ----------------------------------------------------------------------------


def requests_visible_to(membership: Membership) -> QuerySet[DocumentRequest]:
    """Requests of the clients the member may see (the assigned-only rule)."""
    return DocumentRequest.objects.filter(
        client_visibility_q(membership), organization_id=membership.organization_id
    )


def request_items_visible_to(membership: Membership) -> QuerySet[DocumentRequestItem]:
    return DocumentRequestItem.objects.filter(
        client_visibility_q(membership, prefix="request__client__"),
        organization_id=membership.organization_id,
    )


def requests_outstanding(
    membership: Membership, *, today: date, summaries: bool = True
) -> dict[str, int]:
    """What clients still owe on the open requests the member sees, in one
    query: the requests with at least one item (`requests`), those with an item
    overdue on `today`, the items owed and overdue, the items received and
    waiting to be accepted.

    A member who sees every client reads the firm's OutstandingDay rows (kept
    by the database, one per due day, however many items: the dashboard at a
    hundred thousand clients); a member limited to assigned clients counts
    their clients' items (fewer of them), as does `summaries=False`. Both give
    the same figures (tests/documents/test_outstanding_days.py)."""
    if summaries and not sees_assigned_only(membership):
        late = Q(day__lt=today)
        found = OutstandingDay.objects.filter(
            organization_id=membership.organization_id
        ).aggregate(
            requests=Sum("request_count"),
            overdue_requests=Sum("request_count", filter=late),
            owed=Sum("owed_items"),
            overdue=Sum("owed_items", filter=late),
            received=Sum("received_items"),
        )
        return {name: value or 0 for name, value in found.items()}
    overdue = overdue_q(today, OWED_STATUSES)
    return (
        request_items_visible_to(membership)
        .filter(request__status=RequestStatus.OPEN)
        .aggregate(
            requests=Count("request_id", distinct=True),
            overdue_requests=Count("request_id", distinct=True, filter=overdue),
            owed=Count("pk", filter=Q(status__in=OWED_STATUSES)),
            overdue=Count("pk", filter=overdue),
            received=Count("pk", filter=Q(status=ItemStatus.RECEIVED)),
        )
    )


def has_overdue_items(today: date) -> Exists:
    """Whether a request has an item overdue on `today` (a filter on requests)."""
    return Exists(
        DocumentRequestItem.objects.filter(
            overdue_q(today, OWED_STATUSES), request=OuterRef("pk")
        )
    )


def with_progress(qs: QuerySet[DocumentRequest], *, today: date) -> QuerySet:
    """Each request's item counts in the same query: total, received (received or
    accepted), accepted, overdue (owed and past due) and the next owed due date."""
    owed = Q(items__status__in=OWED_STATUSES)
    overdue = overdue_q(today, OWED_STATUSES, prefix="items__")
    return qs.annotate(
        item_count=Count("items"),
        received_count=Count(
            "items",
            filter=Q(items__status__in=[ItemStatus.RECEIVED, ItemStatus.ACCEPTED]),
        ),
        accepted_count=Count("items", filter=Q(items__status=ItemStatus.ACCEPTED)),
        overdue_count=Count("items", filter=overdue),
        next_due=Min("items__due_date", filter=owed),
    )
