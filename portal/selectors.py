"""What a contact sees: everything is read through the grants in `request.portal`.

Each function takes the PortalSession and filters by the client ids its grants
allow for one capability, so another client's rows (same firm or not) never
come back; a view that finds nothing answers 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from advisoros.tenancy.clock import firm_today
from billing.models import (
    OPEN_INVOICE_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from clients.models import CLOSED_ENGAGEMENT_STATUSES, Engagement
from documents.models import SERVABLE_SCAN_STATUSES, Document, DocumentRequest
from documents.services.requests import with_progress
from portal.models import Capability, Message
from portal.session import PortalSession

HOME_SHOWN = 20


def open_requests(portal: PortalSession) -> QuerySet[DocumentRequest]:
    """Open requests of the clients this contact answers requests for."""
    ids = portal.client_ids(Capability.UPLOAD)
    qs = DocumentRequest.objects.filter(
        organization=portal.organization,
        client_id__in=ids,
        status=DocumentRequest.Status.OPEN,
    )
    return with_progress(qs, today=firm_today(portal.organization)).order_by(
        "next_due", "-created_at", "id"
    )


def requests_reachable(portal: PortalSession) -> QuerySet[DocumentRequest]:
    """Requests this session may open: a client's (upload grant) or a link's own."""
    ids = portal.client_ids(Capability.UPLOAD)
    linked = list(portal.links)
    return DocumentRequest.objects.filter(organization=portal.organization).filter(
        Q(client_id__in=ids) | Q(pk__in=linked)
    )


# What a list of shared documents shows: never the OCR text or search vector
# (kilobytes a row) nor the client's encrypted columns (the session's grants
# hold the clients: `PortalSession.with_clients`).
LISTED_DOCUMENT_FIELDS = (
    "id",
    "uuid",
    "organization_id",
    "client_id",
    "title",
    "original_filename",
    "size",
    "mime_type",
    "category",
    "tax_year",
    "version",
    "created_at",
)


def shared_documents_listed(portal: PortalSession) -> QuerySet[Document]:
    """`shared_documents` for a list: its rows' own columns only, no client join."""
    return shared_documents(portal).select_related(None).only(*LISTED_DOCUMENT_FIELDS)


def shared_documents(portal: PortalSession) -> QuerySet[Document]:
    """Versions the firm shared with the client, of clients this contact may see."""
    ids = portal.client_ids(Capability.VIEW_DOCUMENTS)
    return (
        Document.objects.filter(
            organization=portal.organization,
            client_id__in=ids,
            visible_to_client=True,
            archived_at__isnull=True,
        )
        # Clean (or from before scanning): never one being checked or quarantined.
        .filter(scan_status__in=SERVABLE_SCAN_STATUSES)
        .select_related("client")
        .order_by("-created_at", "-id")
    )


def unread_messages(portal: PortalSession) -> int:
    ids = portal.client_ids(Capability.MESSAGE)
    if not ids:
        return 0
    return Message.objects.filter(
        organization=portal.organization,
        client_id__in=ids,
        from_client=False,
        read_at__isnull=True,
    ).count()


def letters_to_sign(portal: PortalSession) -> QuerySet[Engagement]:
    ids = portal.client_ids(Capability.SIGN)
    return (
        Engagement.objects.filter(
            organization=portal.organization,
            client_id__in=ids,
            letter_accepted_at__isnull=True,
        )
        .exclude(letter="")
        .exclude(status__in=CLOSED_ENGAGEMENT_STATUSES)
        .select_related("client")
        .defer("client__tax_id")
        .order_by("due_date", "id")
    )


def letter_engagements(portal: PortalSession) -> QuerySet[Engagement]:
    """Engagements with a letter, of the clients this contact signs for: the
    letters they may read (to sign, signed, or of a closed engagement)."""
    ids = portal.client_ids(Capability.SIGN)
    return (
        Engagement.objects.filter(organization=portal.organization, client_id__in=ids)
        .exclude(letter="")
        .select_related("client")
    )


def signed_letters(portal: PortalSession) -> QuerySet[Engagement]:
    """Accepted letters (signed here or on paper), the latest first."""
    return (
        letter_engagements(portal)
        .filter(letter_accepted_at__isnull=False)
        .order_by("-letter_accepted_at", "-id")
    )


# Invoices ----------------------------------------------------------------------------

# What an invoice row shows: never the PDF's path or the staff's notes.
LISTED_INVOICE_FIELDS = (
    "id",
    "uuid",
    "organization_id",
    "client_id",
    "kind",
    "number",
    "status",
    "currency",
    "issue_date",
    "due_date",
    "total",
    "amount_paid",
    "amount_credited",
)


def client_invoices(portal: PortalSession) -> QuerySet[Invoice]:
    """Invoices issued to the clients whose grant shows invoices: never a draft
    (not sent yet) or a voided one, never a credit note on its own."""
    ids = portal.client_ids(Capability.VIEW_INVOICES)
    return (
        Invoice.objects.filter(
            organization=portal.organization,
            client_id__in=ids,
            kind=InvoiceKind.INVOICE,
        )
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .order_by("-issue_date", "-id")
    )


def invoices_to_pay(portal: PortalSession) -> QuerySet[Invoice]:
    """The shown invoices still owed, the earliest due first."""
    return (
        client_invoices(portal)
        .filter(status__in=OPEN_INVOICE_STATUSES)
        .only(*LISTED_INVOICE_FIELDS)
        .order_by("due_date", "id")
    )
