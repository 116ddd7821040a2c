"""The emails billing sends a firm's client: an invoice, a reminder, a receipt.
Each goes to the client's billing contacts (else its primary ones, else the
client's own address), in the firm's look (advisoros.email)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from advisoros.email import branded_email
from advisoros.tenancy.models import Organization
from billing.links import invoice_link_for
from billing.models import Invoice, Payment
from clients.models import ClientContact, ContactRole


def invoice_recipients(invoice: Invoice) -> list[str]:
    links = (
        ClientContact.objects.filter(
            organization_id=invoice.organization_id,
            client_id=invoice.client_id,
            role__in=(ContactRole.BILLING, ContactRole.PRIMARY),
        )
        .exclude(contact__email="")
        .values_list("role", "contact__email")
    )
    by_role: dict[str, list[str]] = {}
    for role, email in links:
        by_role.setdefault(role, []).append(email)
    emails = by_role.get(ContactRole.BILLING) or by_role.get(ContactRole.PRIMARY)
    if emails:
        return sorted(set(emails))
    return [invoice.client.email] if invoice.client.email else []


def _message(
    organization: Organization,
    invoice: Invoice,
    *,
    subject: str,
    template: str,
    context: dict | None = None,
) -> EmailMultiAlternatives | None:
    to = invoice_recipients(invoice)
    if not to:
        return None
    link = invoice_link_for(invoice=invoice)
    return branded_email(
        organization,
        subject=subject,
        to=to,
        text_template=template,
        context={"invoice": invoice, "link": link, **(context or {})},
        button=("View and pay the invoice", link) if link else None,
    )


def invoice_email(organization: Organization, invoice: Invoice):
    return _message(
        organization,
        invoice,
        subject=f"Invoice {invoice.display_number} from {organization.name}",
        template="billing/email/invoice.txt",
    )


def reminder_email(organization: Organization, invoice: Invoice, *, days_late: int):
    return _message(
        organization,
        invoice,
        subject=f"Reminder: invoice {invoice.display_number} is due",
        template="billing/email/reminder.txt",
        context={"days_late": days_late},
    )


def receipt_email(organization: Organization, payment: Payment):
    return _message(
        organization,
        payment.invoice,
        subject=f"Receipt for your payment to {organization.name}",
        template="billing/email/receipt.txt",
        context={"payment": payment},
    )
