"""Sending an issued invoice to its client: the email with its PDF attached.

`invoice_issue` queues the sending (billing.tasks.invoice_send_job) once the
issue has committed; "Resend" on the invoice page queues it again. The email
goes to the client's billing contacts (billing.emails.invoice_recipients);
`Invoice.sent_at` and `sent_to` say when it last went and to whom.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Organization
from billing.emails import invoice_email
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from billing.pdf import invoice_pdf_bytes, invoice_pdf_filename
from billing.services.common import require_biller

logger = logging.getLogger(__name__)


def _sendable(invoice: Invoice) -> bool:
    return invoice.kind == InvoiceKind.INVOICE and invoice.status not in (
        InvoiceStatus.DRAFT,
        InvoiceStatus.VOID,
    )


def invoice_send(
    *, organization: Organization, invoice_id: int, resend: bool = False
) -> list[str]:
    """Email the issued invoice `invoice_id` with its PDF, once (or again when
    `resend`). Returns the addresses it went to: none when it was sent already,
    is void, or the client has no address to send it to.

    The PDF is made (and stored) before the invoice row is locked, so a payment
    arriving meanwhile never waits for WeasyPrint. The row is locked and stamped
    in the transaction that sends, so a retry after a failed send tries again
    and a second run of the first sending finds it sent."""
    invoice = (
        Invoice.objects.select_related("client", "engagement")
        .filter(organization=organization, pk=invoice_id)
        .first()
    )
    if invoice is None or not _sendable(invoice):
        return []
    if invoice.sent_at and not resend:
        return []
    pdf = invoice_pdf_bytes(invoice)
    with transaction.atomic():
        locked = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(organization=organization, pk=invoice_id)
        )
        if not _sendable(locked) or (locked.sent_at and not resend):
            return []
        message = invoice_email(organization, locked)
        if message is None:
            logger.info(
                "Invoice %s not emailed: its client has no address", locked.uuid
            )
            return []
        message.attach(invoice_pdf_filename(locked), pdf, "application/pdf")
        message.send()
        locked.sent_at = timezone.now()
        locked.sent_to = ", ".join(message.to)[:500]
        locked.save(update_fields=["sent_at", "sent_to", "updated_at"])
    return list(message.to)


def invoice_resend(*, invoice: Invoice, by: User | None) -> None:
    """Queue the invoice's email again ("Resend" on its page)."""
    from billing import tasks

    require_biller(invoice.organization_id, by)
    if not _sendable(invoice):
        raise ValidationError("Only an issued invoice that is not void is emailed.")
    tasks.invoice_send_queue(invoice, resend=True)
