"""Payments and refunds (docs/billing.md, "Payments").

Staff record the money that arrives by check, wire or cash (`payment_record`);
Stripe's events record card and bank payments (`payment_record_online`, called
by integrations.stripe's one fulfil function). Both lock the invoice, so two
payments arriving together add up rather than overwrite; an online payment is
recorded once per payment intent however many events announce it. A refund
never exceeds what the payment brought in, checked here and by the database.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from billing.models import (
    MANUAL_METHODS,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    money,
)
from billing.services.common import require_biller, settle

logger = logging.getLogger(__name__)


def _lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(
        organization_id=invoice.organization_id, pk=invoice.pk
    )


def _on_receipt(payment: Payment) -> None:
    """The receipt email goes out from a job once the payment is committed."""
    from billing import tasks

    tasks.payment_receipt_queue(payment)


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    by: User | None,
    amount: Decimal,
    method: str,
    received_on: date | None = None,
    reference: str = "",
) -> Payment:
    """Money received outside Stripe (check, wire, cash), recorded by staff. It
    cannot be more than the invoice still owes."""
    require_biller(invoice.organization_id, by)
    if method not in MANUAL_METHODS:
        raise ValidationError("Card and bank payments are recorded by Stripe.")
    locked = _lock_invoice(invoice)
    if locked.kind != InvoiceKind.INVOICE or locked.status in (
        InvoiceStatus.DRAFT,
        InvoiceStatus.VOID,
    ):
        raise ValidationError("Payments are recorded against issued invoices.")
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A payment is for more than nothing.")
    if amount > locked.balance:
        raise ValidationError(
            f"This payment of {amount} {locked.currency} is more than the "
            f"{locked.balance} {locked.currency} still owed on "
            f"{locked.display_number}."
        )
    today = firm_today(invoice.organization)
    received_on = received_on or today
    if received_on > today:
        raise ValidationError("A payment cannot be received in the future.")
    payment = Payment.objects.create(
        organization_id=locked.organization_id,
        invoice=locked,
        client_id=locked.client_id,
        amount=amount,
        currency=locked.currency,
        method=method,
        status=PaymentStatus.SUCCEEDED,
        received_on=received_on,
        reference=reference.strip()[:200],
        recorded_by=by,
    )
    locked.amount_paid += amount
    settle(locked)
    _on_receipt(payment)
    return payment


@transaction.atomic
def payment_record_online(
    *,
    invoice: Invoice,
    amount: Decimal,
    currency: str,
    method: str,
    payment_intent: str,
    checkout_session: str = "",
    succeeded: bool | None,
    failure_message: str = "",
) -> Payment:
    """Record what Stripe says of a payment intent: `succeeded` True (money in),
    None (an ACH debit in flight) or False (it failed). Idempotent per payment
    intent: a repeated or late event changes nothing twice, and a final state
    (succeeded, failed) is never moved. Money that arrives for more than is owed
    (two checkouts paid) is recorded all the same, and the invoice shows the
    overpayment to refund."""
    if not payment_intent:
        raise ValidationError("An online payment needs its payment intent.")
    locked = _lock_invoice(invoice)
    if currency.lower() != locked.currency.lower():
        raise ValidationError(
            f"The payment is in {currency.upper()}, the invoice in {locked.currency}."
        )
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A payment is for more than nothing.")
    if method not in (PaymentMethod.CARD, PaymentMethod.US_BANK_ACCOUNT):
        method = PaymentMethod.OTHER
    payment = (
        Payment.objects.select_for_update()
        .filter(
            organization_id=locked.organization_id, stripe_payment_intent=payment_intent
        )
        .first()
    )
    status = {
        True: PaymentStatus.SUCCEEDED,
        None: PaymentStatus.PENDING,
        False: PaymentStatus.FAILED,
    }[succeeded]
    if payment is None:
        payment = Payment.objects.create(
            organization_id=locked.organization_id,
            invoice=locked,
            client_id=locked.client_id,
            amount=amount,
            currency=locked.currency,
            method=method,
            status=status,
            stripe_payment_intent=payment_intent,
            stripe_checkout_session=checkout_session,
            failure_message=failure_message[:500],
        )
    elif payment.invoice_id != locked.pk:
        raise ValidationError("That payment intent paid another invoice.")
    elif payment.status != PaymentStatus.PENDING or status == PaymentStatus.PENDING:
        return payment  # already final, or still pending: nothing new
    else:
        payment.status = status
        payment.failure_message = failure_message[:500]
        payment.received_on = firm_today(invoice.organization)
        payment.save()
    if status == PaymentStatus.SUCCEEDED:
        if amount > locked.balance:
            logger.warning(
                "Invoice %s overpaid by %s %s (payment intent %s): refund it.",
                locked.uuid,
                amount - max(locked.balance, Decimal(0)),
                locked.currency,
                payment_intent,
            )
        locked.amount_paid += amount
        settle(locked)
        _on_receipt(payment)
    return payment


@transaction.atomic
def payment_refund(
    *,
    payment: Payment,
    by: User | None,
    amount: Decimal,
    reason: str = "",
    stripe_refund: str = "",
    status: str = RefundStatus.SUCCEEDED,
) -> Refund:
    """Give back part or all of a payment (never more than it brought in). A
    Stripe refund is recorded once per refund id; one still pending at Stripe
    counts at once, and is undone if it fails (`payment_refund_failed`)."""
    require_biller(payment.organization_id, by)
    locked_invoice = _lock_invoice(payment.invoice)
    locked = Payment.objects.select_for_update().get(
        organization_id=payment.organization_id, pk=payment.pk
    )
    if stripe_refund:
        done = Refund.objects.filter(
            organization_id=locked.organization_id, stripe_refund=stripe_refund
        ).first()
        if done is not None:
            return done
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A refund is for more than nothing.")
    if amount > locked.refundable:
        raise ValidationError(
            f"You can refund at most {locked.refundable} {locked.currency} of this "
            "payment."
        )
    refund = Refund.objects.create(
        organization_id=locked.organization_id,
        payment=locked,
        amount=amount,
        reason=reason.strip()[:300],
        stripe_refund=stripe_refund,
        status=status,
        created_by=by,
    )
    locked.amount_refunded += amount
    locked.save(update_fields=["amount_refunded", "updated_at"])
    locked_invoice.amount_paid -= amount
    settle(locked_invoice)
    return refund


@transaction.atomic
def payment_refund_settled(*, refund: Refund, succeeded: bool) -> bool:
    """Stripe's last word on a pending (or recorded) refund. A refund that
    failed or was cancelled never gave the money back: it is marked failed and
    undone, the payment's refunded amount and the invoice's paid amount put back
    as they were. Returns whether anything changed (a repeat changes nothing)."""
    locked_invoice = _lock_invoice(refund.payment.invoice)
    locked = Refund.objects.select_for_update().get(
        organization_id=refund.organization_id, pk=refund.pk
    )
    if locked.status == RefundStatus.FAILED:
        return False
    if succeeded:
        if locked.status == RefundStatus.SUCCEEDED:
            return False
        locked.status = RefundStatus.SUCCEEDED
        locked.save(update_fields=["status", "updated_at"])
        return True
    payment = Payment.objects.select_for_update().get(
        organization_id=locked.organization_id, pk=locked.payment_id
    )
    locked.status = RefundStatus.FAILED
    locked.save(update_fields=["status", "updated_at"])
    payment.amount_refunded -= locked.amount
    payment.save(update_fields=["amount_refunded", "updated_at"])
    locked_invoice.amount_paid += locked.amount
    settle(locked_invoice)
    return True
