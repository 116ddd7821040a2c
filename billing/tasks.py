"""Background jobs of the billing app. Thin: ids in, the firm's context, a service.

Each is queued on commit through advisoros.tenancy.tasks, so it runs in its
firm, is retried with backoff and lands on the failed-jobs page when it fails
for good; each is safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization, enqueue_for_organizations
from billing.emails import receipt_email
from billing.models import (
    OPEN_INVOICE_STATUSES,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentStatus,
    RecurringInvoice,
)
from billing.services.overdue import overdue_invoices_process
from billing.services.recurring import recurring_run_due

logger = logging.getLogger(__name__)


def payment_receipt_queue(payment: Payment) -> None:
    organization = Organization.objects.get(pk=payment.organization_id)
    enqueue_for_organization(
        "billing.tasks.payment_receipt_job", organization, payment_id=payment.pk
    )


def payment_receipt_job(*, organization: Organization, payment_id: int) -> bool:
    """Email the receipt of a succeeded payment, once: the payment row is locked
    and stamped in the transaction that sends it, so a retry after a failed send
    tries again and a second run finds it sent. Returns whether one went out."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("invoice", "invoice__client")
            .get(organization=organization, pk=payment_id)
        )
        if payment.receipt_sent_at or payment.status != PaymentStatus.SUCCEEDED:
            return False
        message = receipt_email(organization, payment)
        if message is None:
            logger.info("No address for the receipt of payment %s", payment.uuid)
            return False
        message.send()
        payment.receipt_sent_at = timezone.now()
        payment.save(update_fields=["receipt_sent_at", "updated_at"])
    return True


def invoice_send_queue(invoice: Invoice, *, resend: bool = False) -> None:
    organization = Organization.objects.get(pk=invoice.organization_id)
    enqueue_for_organization(
        "billing.tasks.invoice_send_job",
        organization,
        invoice_id=invoice.pk,
        resend=resend,
    )


def invoice_send_job(
    *, organization: Organization, invoice_id: int, resend: bool = False
) -> str:
    """Make and keep the issued invoice's PDF, then email it to the client's
    billing contacts (billing.services.delivery): once, or again on "Resend"."""
    from billing.services.delivery import invoice_send

    sent_to = invoice_send(
        organization=organization, invoice_id=invoice_id, resend=resend
    )
    return f"sent to {', '.join(sent_to)}" if sent_to else "not sent"


def invoice_pdf_queue(invoice: Invoice) -> None:
    organization = Organization.objects.get(pk=invoice.organization_id)
    enqueue_for_organization(
        "billing.tasks.invoice_pdf_job", organization, invoice_id=invoice.pk
    )


def invoice_pdf_job(*, organization: Organization, invoice_id: int) -> str:
    """Draw the issued invoice's PDF again and keep it (a voided invoice's says
    VOID). Safe to run twice: the second run replaces the first's file."""
    from billing.pdf import invoice_pdf_store

    invoice = (
        Invoice.objects.select_related("client", "engagement")
        .filter(organization=organization, pk=invoice_id)
        .first()
    )
    if invoice is None or invoice.is_draft:
        return "no issued invoice"
    return f"{len(invoice_pdf_store(invoice))} bytes"


# Scheduled: recurring invoices and overdue invoices ----------------------------------
# Hourly, cross-firm: each firm's job acts on the firm's own date, so it does its
# day's work at the first run after the firm's midnight and nothing at the others
# (every step is idempotent).


def recurring_invoices_run() -> int:
    """Queue the recurring-invoice job of every firm with a recurring invoice
    due by tomorrow (UTC: every firm's today is within a day of it). Returns the
    number of firms queued."""
    horizon = timezone.now().date() + timedelta(days=1)
    with platform_bypass():
        firms = list(
            RecurringInvoice.objects.filter(is_active=True, next_date__lte=horizon)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations("billing.tasks.recurring_invoices_job", firms)


def recurring_invoices_job(*, organization: Organization) -> int:
    """Make the invoices of the firm's due recurring periods"""
    return recurring_run_due(organization=organization, today=firm_today(organization))


def overdue_invoices_run() -> int:
    """Queue the overdue job (mark, late fee, reminders) of every firm with an
    open invoice whose due date has passed. Returns the number of firms queued."""
    horizon = timezone.now().date() + timedelta(days=1)
    with platform_bypass():
        firms = list(
            Invoice.objects.filter(
                kind=InvoiceKind.INVOICE,
                status__in=OPEN_INVOICE_STATUSES,
                due_date__lt=horizon,
            )
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations("billing.tasks.overdue_invoices_job", firms)


def overdue_invoices_job(*, organization: Organization) -> int:
    """Mark overdue invoices, charge late fees and send reminders"""
    return overdue_invoices_process(
        organization=organization, today=firm_today(organization)
    )
