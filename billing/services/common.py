"""What the billing services share: who may bill, and settling an invoice."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.models import Membership, Role
from billing.models import Invoice, InvoiceStatus
from billing.signals import invoice_paid


def require_biller(organization_id: int, by: User | None) -> None:
    """Staff and above bill; read-only members and outsiders do not. `by=None` is
    the system (a job, a webhook)."""
    if by is None:
        return
    membership = (
        Membership.objects.filter(
            organization_id=organization_id, user=by, is_active=True
        )
        .only("role", "is_active")
        .first()
    )
    if membership is None:
        raise ValidationError("Only members of the firm can bill.")
    if not membership.has_role(Role.STAFF):
        raise ValidationError("Read-only members cannot change invoices or payments.")


def settle(invoice: Invoice) -> bool:
    """Move a (locked) issued invoice's status after its paid or credited amount
    changed, and save it. Returns whether it became paid; then `invoice_paid` is
    sent once the transaction commits."""
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        invoice.save()
        return False
    owed = invoice.total - invoice.amount_credited - invoice.amount_paid
    became_paid = False
    if owed <= 0:
        if invoice.status != InvoiceStatus.PAID:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = timezone.now()
            became_paid = True
    elif invoice.amount_paid > 0:
        invoice.status = InvoiceStatus.PARTIAL
        invoice.paid_at = None
    elif invoice.status in (InvoiceStatus.PAID, InvoiceStatus.PARTIAL):
        # Refunded back to nothing paid: owed again, as it was before.
        invoice.paid_at = None
        if invoice.due_date and invoice.due_date < firm_today(invoice.organization):
            invoice.status = InvoiceStatus.OVERDUE
        elif invoice.viewed_at:
            invoice.status = InvoiceStatus.VIEWED
        else:
            invoice.status = InvoiceStatus.SENT
    invoice.save()
    if became_paid:
        organization_id = invoice.organization_id
        transaction.on_commit(
            lambda: invoice_paid.send(
                sender=Invoice, invoice=invoice, organization_id=organization_id
            )
        )
    return became_paid
