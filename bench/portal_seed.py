"""The client portal's bench data, fast: one contact's portal in a busy firm.

In each bench firm, `seed_portal` makes the bench contact (CONTACT_EMAIL, with
a `PortalAccount` shared by every firm, as one person's sign-in is) with grants
of every capability on two clients in the middle of the firm, and for those
two clients: REQUESTS open document requests of ITEMS items each (open,
received, accepted and rejected items, some overdue; the received, accepted
and rejected ones hold the contact's portal uploads, two each in the first
request, one elsewhere), SHARED documents the firm shared (visible_to_client)
and MESSAGES messages, the firm's last few still unread.

Around them the firm is as busy as its size: a document a client
(`bench.documents_seed.seed_documents`, a tenth of them then shared), and a
document request (open, completed or cancelled, three items) and a message for
every tenth client. The portal's queries pick their rows out of tables that
grow with the firm, which is what the 100k/1k ratio is about. Uploads and
documents are rows with a path and no file.

Rows go in with `bench.harness.copy_rows` inside the firm's tenant_context;
each part is topped up to its count, so a second run adds nothing. Then
ANALYZE, so the plans measured are the plans of these rows.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models.functions import Mod
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Organization
from bench.documents_seed import seed_documents
from bench.harness import copy_rows, reserve_ids
from clients.models import Client, ClientContact, ClientStatus, Contact
from documents.models import (
    Document,
    DocumentCategory,
    DocumentRequest,
    DocumentRequestItem,
    DocumentSource,
    OcrStatus,
)
from portal.models import Message, PortalAccount, PortalGrant

CONTACT_EMAIL = "bench-contact@bench.test"
REQUESTS = 20
ITEMS = 5
SHARED = 200
MESSAGES = 40
UNREAD = 3  # the firm's last messages, not yet read by the contact
BACKGROUND_EVERY = 10  # a request and a message for every tenth client
SHARED_EVERY = 10  # of the firm's other documents, every tenth is shared

RequestStatus = DocumentRequest.Status
ItemStatus = DocumentRequestItem.Status
# An item's status by (request number + position): every status in every
# request's neighbourhood, open the most common.
ITEM_STATUSES = (
    ItemStatus.OPEN,
    ItemStatus.RECEIVED,
    ItemStatus.ACCEPTED,
    ItemStatus.OPEN,
    ItemStatus.REJECTED,
    ItemStatus.RECEIVED,
    ItemStatus.OPEN,
)
ITEM_TITLES = (
    ("W-2 forms from every employer", DocumentCategory.W2),
    ("1099-INT and 1099-DIV", DocumentCategory.FORM_1099),
    ("Mortgage interest statement (1098)", DocumentCategory.FORM_1098),
    ("Brokerage year-end statements", DocumentCategory.FORM_1099),
    ("K-1s from partnerships", DocumentCategory.K1),
    ("Bank statements, December", DocumentCategory.BANK_STATEMENT),
    ("Charitable donation receipts", DocumentCategory.RECEIPT),
    ("Childcare provider invoices", DocumentCategory.INVOICE),
    ("Payroll registers, Q4", DocumentCategory.PAYROLL),
    ("Estimated tax payment confirmations", DocumentCategory.OTHER),
)
REQUEST_TITLES = (
    "{year} tax documents",
    "Year-end bookkeeping, {year}",
    "Payroll close-out {year}",
    "Loan application support",
    "Notice response: IRS CP2000",
)
SHARED_TITLES = (
    ("{year} Form 1040 (signed copy)", DocumentCategory.TAX_RETURN, "pdf"),
    ("Tax organizer {year}", DocumentCategory.OTHER, "pdf"),
    ("Engagement letter {year}", DocumentCategory.ENGAGEMENT_LETTER, "pdf"),
    ("Q{quarter} estimated tax vouchers", DocumentCategory.CORRESPONDENCE, "pdf"),
    ("Financial statements {year}", DocumentCategory.FINANCIAL_STATEMENT, "pdf"),
    ("Invoice {n}", DocumentCategory.INVOICE, "pdf"),
    ("Payroll summary {year}", DocumentCategory.PAYROLL, "xlsx"),
)
MIME = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MESSAGE_BODIES = (
    "Here are the statements you asked for. Let me know if anything is missing.",
    "Thanks, we received them. One page of the brokerage statement is cut off.",
    "Quick question: do we need the 1098 from the old lender as well?",
    "Yes please, both lenders' forms. Your draft return is ready for review.",
    "Great, I'll look at it this weekend.",
    "Reminder: the estimated payment for this quarter is due on the 15th.",
)

DOCUMENT_COLUMNS = (
    "id",
    "organization_id",
    "client_id",
    "created_at",
    "title",
    "original_filename",
    "file",
    "size",
    "mime_type",
    "checksum",
    "category",
    "source",
    "uploaded_by_id",
    "uploaded_by_contact_id",
    "request_item_id",
    "visible_to_client",
    "ocr_status",
)
REQUEST_COLUMNS = (
    "id",
    "organization_id",
    "client_id",
    "created_at",
    "title",
    "message",
    "status",
    "created_by_id",
    "completed_at",
)
ITEM_COLUMNS = (
    "organization_id",
    "request_id",
    "created_at",
    "position",
    "title",
    "category",
    "due_date",
    "status",
    "rejection_reason",
    "received_at",
    "reviewed_at",
)
MESSAGE_COLUMNS = (
    "organization_id",
    "client_id",
    "created_at",
    "sender_contact_id",
    "sender_user_id",
    "from_client",
    "body",
    "read_at",
)


@dataclass
class PortalSeedResult:
    documents: int = 0  # the firm's documents (seed_documents)
    requests: int = 0  # the contact's
    uploads: int = 0
    shared: int = 0
    messages: int = 0
    background_requests: int = 0
    background_messages: int = 0
    seconds: float = 0.0

    @property
    def added(self) -> bool:
        return any(
            (
                self.documents,
                self.requests,
                self.uploads,
                self.shared,
                self.messages,
                self.background_requests,
                self.background_messages,
            )
        )


@dataclass
class _Firm:
    organization: Organization
    owner: User
    contact: Contact
    client_ids: list[int]  # the contact's two clients
    rng: random.Random
    now: datetime
    today: date
    others: list[int] = field(default_factory=list)  # every other client


def seed_portal(
    *, organization: Organization, owner: User, clients: int, stdout=None
) -> PortalSeedResult:
    """Top the firm's portal data up (see the module); call inside
    tenant_context(organization), after its `clients` clients exist."""
    started = time.perf_counter()
    result = PortalSeedResult()
    result.documents = seed_documents(
        organization=organization, documents=clients, stdout=stdout
    ).documents
    contact, client_ids = bench_contact_ensure(organization=organization, owner=owner)
    f = _Firm(
        organization=organization,
        owner=owner,
        contact=contact,
        client_ids=client_ids,
        rng=random.Random(f"{organization.slug}:portal"),  # noqa: S311
        now=timezone.now(),
        today=firm_today(organization),
    )
    with transaction.atomic():
        if result.documents:
            _share_some(f)
        result.requests, result.uploads = _contact_requests(f)
        result.shared = _shared_documents(f)
        result.messages = _messages(f)
        result.background_requests = _background_requests(f, clients)
        result.background_messages = _background_messages(f, clients)
    if result.added:
        statistics_refresh(
            [
                model._meta.db_table
                for model in (Document, DocumentRequest, DocumentRequestItem, Message)
            ]
        )
    result.seconds = time.perf_counter() - started
    return result


def bench_contact_ensure(
    *, organization: Organization, owner: User
) -> tuple[Contact, list[int]]:
    """The bench contact of the firm, its portal account and its two clients
    (those of its grants; two active clients in the middle of the firm the
    first time), each granted every capability."""
    PortalAccount.objects.get_or_create(email=CONTACT_EMAIL)
    contact = Contact.objects.filter(
        organization=organization, email__iexact=CONTACT_EMAIL
    ).first()
    if contact is None:
        contact = Contact.objects.create(
            organization=organization,
            first_name="Bench",
            last_name="Contact",
            email=CONTACT_EMAIL,
        )
    client_ids = list(
        PortalGrant.objects.filter(organization=organization, contact=contact)
        .order_by("client_id")
        .values_list("client_id", flat=True)
    )
    if client_ids:
        return contact, client_ids
    active = Client.objects.filter(
        organization=organization,
        status=ClientStatus.ACTIVE,
        archived_at__isnull=True,
    ).order_by("pk")
    middle = active.count() // 2
    client_ids = list(active.values_list("pk", flat=True)[middle : middle + 2])
    for client_id in client_ids:
        ClientContact.objects.create(
            organization=organization, client_id=client_id, contact=contact
        )
        PortalGrant.objects.create(
            organization=organization,
            contact=contact,
            client_id=client_id,
            can_view_documents=True,
            can_upload=True,
            can_sign=True,
            can_message=True,
            can_view_invoices=True,
            can_pay=True,
            granted_by=owner,
        )
    return contact, client_ids


def _share_some(f: _Firm) -> None:
    """Share every SHARED_EVERY-th document of the other clients (the firm's
    documents were just seeded: seed_documents leaves them all unshared)."""
    Document.objects.filter(organization=f.organization).exclude(
        client_id__in=f.client_ids
    ).alias(turn=Mod("id", SHARED_EVERY)).filter(turn=0).update(visible_to_client=True)


def _document_row(
    f: _Firm,
    doc_id: int,
    *,
    client_id: int,
    at: datetime,
    title: str,
    filename: str,
    category: str,
    portal_upload: bool,
    item_id: int | None = None,
) -> tuple:
    org = f.organization.pk
    return (
        doc_id,
        org,
        client_id,
        at,
        title,
        filename,
        f"private/{org}/documents/bench-portal-{doc_id}",
        f.rng.randint(40_000, 4_000_000),
        MIME[filename.rsplit(".", 1)[1]],
        f"{doc_id:064x}",
        category,
        DocumentSource.PORTAL if portal_upload else DocumentSource.STAFF,
        None if portal_upload else f.owner.pk,
        f.contact.pk if portal_upload else None,
        item_id,
        not portal_upload,
        OcrStatus.COMPLETED,
    )


def _contact_requests(f: _Firm) -> tuple[int, int]:
    """The contact's open requests, their items and uploads: (requests, uploads)."""
    have = DocumentRequest.objects.filter(
        organization=f.organization, client_id__in=f.client_ids
    ).count()
    if have >= REQUESTS:
        return 0, 0
    numbers = range(have, REQUESTS)
    request_ids = reserve_ids(DocumentRequest, len(numbers))
    requests, items, uploads = [], [], []
    for n, request_id in zip(numbers, request_ids, strict=True):
        client_id = f.client_ids[n % len(f.client_ids)]
        created = f.now - timedelta(days=3 * n + 1, hours=n)
        title = REQUEST_TITLES[n % len(REQUEST_TITLES)].format(year=f.today.year - 1)
        requests.append(
            (
                request_id,
                f.organization.pk,
                client_id,
                created,
                title,
                "Please send these when you can; photos from your phone are fine.",
                RequestStatus.OPEN,
                f.owner.pk,
                None,
            )
        )
        item_ids = reserve_ids(DocumentRequestItem, ITEMS)
        for position, item_id in enumerate(item_ids):
            status = ITEM_STATUSES[(n + position) % len(ITEM_STATUSES)]
            item_title, category = ITEM_TITLES[(n * 3 + position) % len(ITEM_TITLES)]
            # Some overdue, some due soon, a few without a date.
            due = (
                None
                if (n + position) % 6 == 5
                else f.today + timedelta(days=(n * 7 + position * 11) % 60 - 15)
            )
            sent = status != ItemStatus.OPEN
            received = created + timedelta(days=1 + position) if sent else None
            reviewed = (
                received + timedelta(hours=5)
                if status in (ItemStatus.ACCEPTED, ItemStatus.REJECTED)
                else None
            )
            items.append(
                (
                    item_id,
                    f.organization.pk,
                    request_id,
                    created,
                    position,
                    item_title,
                    category,
                    due,
                    status,
                    "The photo is blurred: please send a sharper one."
                    if status == ItemStatus.REJECTED
                    else "",
                    received,
                    reviewed,
                )
            )
            if sent:
                for k in range(2 if n == 0 else 1):
                    uploads.append(
                        dict(
                            client_id=client_id,
                            at=received + timedelta(minutes=k),
                            title=item_title,
                            filename=f"IMG_{(item_id * 2 + k) % 10_000:04d}.jpg",
                            category=category,
                            portal_upload=True,
                            item_id=item_id,
                        )
                    )
    copy_rows(DocumentRequest, REQUEST_COLUMNS, requests)
    copy_rows(DocumentRequestItem, ("id", *ITEM_COLUMNS), items)
    doc_ids = reserve_ids(Document, len(uploads))
    copy_rows(
        Document,
        DOCUMENT_COLUMNS,
        (
            _document_row(f, doc_id, **upload)
            for doc_id, upload in zip(doc_ids, uploads, strict=True)
        ),
    )
    return len(requests), len(uploads)


def _shared_documents(f: _Firm) -> int:
    have = Document.objects.filter(
        organization=f.organization,
        client_id__in=f.client_ids,
        visible_to_client=True,
    ).count()
    if have >= SHARED:
        return 0
    rows = []
    doc_ids = reserve_ids(Document, SHARED - have)
    for n, doc_id in enumerate(doc_ids, start=have):
        at = f.now - timedelta(days=n * 3 + 2, hours=n % 24)
        template, category, ext = SHARED_TITLES[n % len(SHARED_TITLES)]
        title = template.format(year=at.year, quarter=(at.month - 1) // 3 + 1, n=n)
        rows.append(
            _document_row(
                f,
                doc_id,
                client_id=f.client_ids[n % len(f.client_ids)],
                at=at,
                title=title,
                filename=f"{title.replace(' ', '_')}.{ext}",
                category=category,
                portal_upload=False,
            )
        )
    return copy_rows(Document, DOCUMENT_COLUMNS, rows)


def _messages(f: _Firm) -> int:
    have = Message.objects.filter(
        organization=f.organization, client_id__in=f.client_ids
    ).count()
    if have >= MESSAGES:
        return 0
    rows = []
    for n in range(have, MESSAGES):
        # Oldest first; the last UNREAD of the firm's are not read yet.
        at = f.now - timedelta(hours=(MESSAGES - n) * 17)
        from_client = n % 2 == 0
        unread = not from_client and n >= MESSAGES - 2 * UNREAD
        rows.append(
            (
                f.organization.pk,
                f.client_ids[(n // 4) % len(f.client_ids)],
                at,
                f.contact.pk if from_client else None,
                None if from_client else f.owner.pk,
                from_client,
                MESSAGE_BODIES[n % len(MESSAGE_BODIES)],
                None if unread else at + timedelta(hours=2),
            )
        )
    return copy_rows(Message, MESSAGE_COLUMNS, rows)


def _other_clients(f: _Firm) -> list[int]:
    if not f.others:
        f.others = list(
            Client.objects.filter(organization=f.organization)
            .exclude(pk__in=f.client_ids)
            .values_list("pk", flat=True)
        )
    return f.others


def _background_requests(f: _Firm, clients: int) -> int:
    """Other clients' requests: open, completed or cancelled, three items each."""
    have = (
        DocumentRequest.objects.filter(organization=f.organization)
        .exclude(client_id__in=f.client_ids)
        .count()
    )
    missing = clients // BACKGROUND_EVERY - have
    if missing <= 0:
        return 0
    others = _other_clients(f)
    r = f.rng
    request_ids = reserve_ids(DocumentRequest, missing)
    requests, items = [], []
    for n, request_id in enumerate(request_ids):
        created = f.now - timedelta(minutes=r.randint(0, 400 * 24 * 60))
        status = r.choices(
            (RequestStatus.OPEN, RequestStatus.COMPLETED, RequestStatus.CANCELLED),
            (5, 4, 1),
        )[0]
        requests.append(
            (
                request_id,
                f.organization.pk,
                r.choice(others),
                created,
                REQUEST_TITLES[n % len(REQUEST_TITLES)].format(year=created.year - 1),
                "",
                status,
                f.owner.pk,
                created + timedelta(days=20)
                if status == RequestStatus.COMPLETED
                else None,
            )
        )
        for position in range(3):
            item_title, category = ITEM_TITLES[(n + position) % len(ITEM_TITLES)]
            item_status = (
                ItemStatus.ACCEPTED
                if status == RequestStatus.COMPLETED
                else r.choice(ITEM_STATUSES)
            )
            sent = item_status != ItemStatus.OPEN
            items.append(
                (
                    f.organization.pk,
                    request_id,
                    created,
                    position,
                    item_title,
                    category,
                    (created + timedelta(days=30)).date(),
                    item_status,
                    "",
                    created + timedelta(days=5) if sent else None,
                    created + timedelta(days=6) if sent else None,
                )
            )
    copy_rows(DocumentRequest, REQUEST_COLUMNS, requests)
    copy_rows(DocumentRequestItem, ITEM_COLUMNS, items)
    return missing


def _background_messages(f: _Firm, clients: int) -> int:
    have = (
        Message.objects.filter(organization=f.organization)
        .exclude(client_id__in=f.client_ids)
        .count()
    )
    missing = clients // BACKGROUND_EVERY - have
    if missing <= 0:
        return 0
    others = _other_clients(f)
    r = f.rng
    rows = []
    for n in range(missing):
        at = f.now - timedelta(minutes=r.randint(0, 400 * 24 * 60))
        from_client = r.random() < 0.5
        rows.append(
            (
                f.organization.pk,
                r.choice(others),
                at,
                None,
                None if from_client else f.owner.pk,
                from_client,
                MESSAGE_BODIES[n % len(MESSAGE_BODIES)],
                None if r.random() < 0.2 else at + timedelta(hours=3),
            )
        )
    return copy_rows(Message, MESSAGE_COLUMNS, rows)
