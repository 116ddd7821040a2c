"""Invoices and payments on the client timeline (clients.timeline registry):
one query each."""

from __future__ import annotations

from datetime import date

from advisoros.row_urls import row_url
from billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from clients.models import Client
from clients.timeline import TimelineItem, register_timeline_source


def _day(value: date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


@register_timeline_source
def invoice_items(client: Client, *, viewer, limit: int):
    """Invoices and credit notes issued (drafts are not news)."""
    invoices = (
        Invoice.objects.filter(
            organization_id=client.organization_id,
            client=client,
            issued_at__isnull=False,
        )
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("created_by", "credited_invoice")
        .order_by("-issued_at", "-pk")[:limit]
    )
    url = row_url(
        "billing:invoice_detail", "invoice_uuid", org_slug=viewer.organization.slug
    )
    for invoice in invoices:
        money = f"{invoice.total:,.2f} {invoice.currency}"
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            credited = invoice.credited_invoice
            title = f"Credit note {invoice} issued" + (
                f" on {credited}" if credited else ""
            )
            detail = f"{money} · {invoice.memo}"[:280]
        else:
            title = f"Invoice {invoice} issued"
            due = f", due {_day(invoice.due_date)}" if invoice.due_date else ""
            detail = f"{money}{due}"
            if invoice.status == InvoiceStatus.VOID:
                detail += " · void"
        yield TimelineItem(
            when=invoice.issued_at,
            kind="invoice",
            title=title,
            detail=detail,
            actor=str(invoice.created_by or ""),
            url=url(invoice.uuid),
        )


@register_timeline_source
def payment_items(client: Client, *, viewer, limit: int):
    """Payments received (when they were recorded), with their refunds' total."""
    payments = (
        Payment.objects.filter(
            organization_id=client.organization_id,
            client=client,
            status=PaymentStatus.SUCCEEDED,
        )
        .select_related("invoice", "recorded_by")
        .order_by("-created_at", "-pk")[:limit]
    )
    url = row_url(
        "billing:invoice_detail", "invoice_uuid", org_slug=viewer.organization.slug
    )
    for payment in payments:
        detail = f"{payment.get_method_display()}, received {_day(payment.received_on)}"
        if payment.amount_refunded:
            detail += f" · {payment.amount_refunded:,.2f} refunded"
        yield TimelineItem(
            when=payment.created_at,
            kind="payment",
            title=f"Payment of {payment.amount:,.2f} {payment.currency} for "
            f"{payment.invoice}",
            detail=detail,
            actor=str(payment.recorded_by or ""),
            url=url(payment.invoice.uuid),
        )
