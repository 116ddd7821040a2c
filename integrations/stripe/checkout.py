"""Paying an invoice through the firm's Stripe Checkout, and refunding through it.

`checkout_start` opens (or reuses) a Checkout session for what the invoice
still owes. Each session is a numbered attempt of the invoice
(`CheckoutSession.attempt`), reserved in our database before Stripe is called,
and its idempotency key is "<invoice uuid>:checkout:<attempt>":

- a double click, or a click after a timeout, finds the attempt open for the
  same amount and sends the same key with the same parameters: Stripe answers
  the session it already made, so one invoice never has two live sessions for
  one amount;
- when the amount changed (a partial payment arrived, a credit note), the old
  session is expired in Stripe and the next attempt opens a new one.

What is owed online is the balance less the bank debits still in flight
(pending ACH payments are not in `amount_paid` until they clear), so a client
whose debit is on its way is not asked to pay again.

`payment_refund_through_stripe` gives money back through Stripe first, then
records it with billing's `payment_refund` (which checks the limit again, as
Stripe does): the refund's idempotency key "<payment uuid>:refund:<n>" makes a
repeated click or a retry after a timeout one refund, not two.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import stripe
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from advisoros.accounts.models import User
from billing.models import (
    ZERO,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentStatus,
    Refund,
    money,
)
from billing.services.payments import payment_refund
from clients.models import Contact
from integrations.stripe.client import (
    StripeError,
    checkout_idempotency_key,
    error_message,
    expire_idempotency_key,
    from_minor,
    refund_idempotency_key,
    stripe_client,
    to_minor,
)
from integrations.stripe.models import CheckoutSession, StripeAccount
from integrations.stripe.services import stripe_account_of

logger = logging.getLogger(__name__)

# An open session closer than this to its expiry is not handed out again.
REUSE_MARGIN = timedelta(minutes=15)
NOT_TURNED_ON = "Online payment is not turned on for this firm."


def pending_online(invoice: Invoice) -> Decimal:
    """Bank debits of this invoice still in flight (not yet in amount_paid)."""
    total = Payment.objects.filter(
        organization_id=invoice.organization_id,
        invoice=invoice,
        status=PaymentStatus.PENDING,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def amount_due_online(invoice: Invoice) -> Decimal:
    """What the client may pay now: the balance less the debits in flight."""
    return max(ZERO, invoice.balance - pending_online(invoice))


def checkout_start(
    *, invoice: Invoice, contact: Contact, return_url: str
) -> CheckoutSession:
    """A Checkout session in the firm's Stripe for what `invoice` owes, opened
    for `contact`; Stripe sends the client back to `return_url` (the portal's
    invoice page) with `?checkout=success` or `?checkout=cancel`."""
    account = stripe_account_of(invoice.organization_id)
    if account is None or not account.is_ready:
        raise ValidationError(NOT_TURNED_ON)
    methods = account.methods_for(invoice.currency)
    if not methods:
        raise ValidationError(
            f"This firm takes only US bank accounts online, and this invoice is in "
            f"{invoice.currency}."
        )
    for _ in range(2):
        session, stale = _attempt_for(invoice)
        if stale is not None:
            _expire_quietly(account, stale)
        if session.session_id:
            return session
        try:
            return _open(account, session, methods, contact, return_url)
        except stripe.IdempotencyError:
            # The attempt's key was used with other parameters (the firm changed
            # its methods since, or the address differs): this attempt is done.
            _retire(session)
    raise ValidationError("The payment page could not be opened. Try again.")


def _attempt_for(invoice: Invoice) -> tuple[CheckoutSession, CheckoutSession | None]:
    """The attempt to pay with (reused, or reserved now), and the open session
    it replaces (to expire in Stripe), under the invoice's row lock."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(
            organization_id=invoice.organization_id, pk=invoice.pk
        )
        if locked.kind != InvoiceKind.INVOICE or not locked.is_open:
            raise ValidationError(
                f"{locked.display_number} is not open for payment (it is "
                f"{locked.get_status_display().lower()})."
            )
        amount = amount_due_online(locked)
        if amount <= 0:
            raise ValidationError(
                "Nothing is left to pay online: a bank payment for this invoice "
                "is on its way."
            )
        latest = (
            CheckoutSession.objects.filter(
                organization_id=locked.organization_id, invoice=locked
            )
            .order_by("-attempt")
            .first()
        )
        if latest is not None and _reusable(latest, amount, locked.currency):
            return latest, None
        stale = None
        if latest is not None and latest.status == CheckoutSession.Status.OPEN:
            latest.status = CheckoutSession.Status.EXPIRED
            latest.save(update_fields=["status", "updated_at"])
            stale = latest if latest.session_id else None
        session = CheckoutSession.objects.create(
            organization_id=locked.organization_id,
            invoice=locked,
            attempt=latest.attempt + 1 if latest else 1,
            session_id="",
            url="",
            amount=amount,
            currency=locked.currency,
        )
        session.invoice = locked
        return session, stale


def _reusable(session: CheckoutSession, amount: Decimal, currency: str) -> bool:
    if session.status != CheckoutSession.Status.OPEN:
        return False
    if (session.amount, session.currency) != (amount, currency):
        return False
    if not session.session_id:
        return True  # reserved, Stripe not reached yet: the same key again
    return session.expires_at is None or (
        session.expires_at > timezone.now() + REUSE_MARGIN
    )


def _retire(session: CheckoutSession) -> None:
    CheckoutSession.objects.filter(pk=session.pk).update(
        status=CheckoutSession.Status.EXPIRED, updated_at=timezone.now()
    )


def _open(
    account: StripeAccount,
    session: CheckoutSession,
    methods: list[str],
    contact: Contact,
    return_url: str,
) -> CheckoutSession:
    invoice = session.invoice
    metadata = {
        "invoice": str(invoice.uuid),
        "organization": str(invoice.organization_id),
        "attempt": str(session.attempt),
    }
    name = f"Invoice {invoice.display_number}"
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": session.currency.lower(),
                    "unit_amount": to_minor(session.amount, session.currency),
                    "product_data": {"name": name},
                },
                "quantity": 1,
            }
        ],
        "payment_method_types": methods,
        "client_reference_id": str(invoice.uuid),
        "customer_email": contact.email or None,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": name},
        "success_url": f"{return_url}?checkout=success",
        "cancel_url": f"{return_url}?checkout=cancel",
    }
    try:
        opened = stripe_client(account).v1.checkout.sessions.create(
            params=params,
            options={
                "idempotency_key": checkout_idempotency_key(invoice, session.attempt)
            },
        )
    except stripe.IdempotencyError:
        raise
    except StripeError as exc:
        if exc.http_status == 409:
            # The same attempt is still being opened (a click during a slow
            # answer): Stripe finishes it, and the next click gets it.
            raise ValidationError(
                "Your payment page is being prepared: try again in a moment."
            ) from exc
        logger.warning(
            "Firm %s: Checkout for invoice %s not opened: %s",
            invoice.organization_id,
            invoice.uuid,
            exc,
        )
        raise ValidationError(error_message(exc)) from exc
    session.session_id = opened.id
    session.url = opened.url or ""
    session.expires_at = (
        datetime.fromtimestamp(opened.expires_at, tz=UTC) if opened.expires_at else None
    )
    session.save(update_fields=["session_id", "url", "expires_at", "updated_at"])
    return session


def _expire_quietly(account: StripeAccount, session: CheckoutSession) -> None:
    """Expire a replaced session in Stripe. Refused (it was paid or expired
    meanwhile: its events will say) or unreachable (it expires by itself within
    a day) is logged; a payment on it is still recorded, as an overpayment if
    it comes to that."""
    try:
        stripe_client(account).v1.checkout.sessions.expire(
            session.session_id,
            options={"idempotency_key": expire_idempotency_key(session)},
        )
    except StripeError as exc:
        logger.info(
            "Firm %s: replaced Checkout session %s not expired: %s",
            session.organization_id,
            session.session_id,
            exc,
        )


def payment_refund_through_stripe(
    *, payment: Payment, amount: Decimal, reason: str, by: User
) -> Refund:
    """Refund part or all of a payment made through Stripe: in Stripe first, then
    recorded (`billing.services.payments.payment_refund`)."""
    if not payment.stripe_payment_intent:
        raise ValidationError("This payment was not made through Stripe.")
    account = stripe_account_of(payment.organization_id)
    if account is None:
        raise ValidationError(
            "Stripe is not connected any more: refund it in Stripe's dashboard, "
            "and record it here as a manual refund."
        )
    amount = money(amount)
    with transaction.atomic():
        # The invoice first, then the payment: the order billing's services
        # lock them in (a refund event processed meanwhile waits, no deadlock).
        Invoice.objects.select_for_update().only("pk").get(
            organization_id=payment.organization_id, pk=payment.invoice_id
        )
        locked = Payment.objects.select_for_update().get(
            organization_id=payment.organization_id, pk=payment.pk
        )
        if amount <= 0:
            raise ValidationError("A refund is for more than nothing.")
        if amount > locked.refundable:
            raise ValidationError(
                f"You can refund at most {locked.refundable} {locked.currency} of "
                "this payment."
            )
        number = (
            Refund.objects.filter(
                organization_id=locked.organization_id, payment=locked
            ).count()
            + 1
        )
        try:
            refund = stripe_client(account).v1.refunds.create(
                params={
                    "payment_intent": locked.stripe_payment_intent,
                    "amount": to_minor(amount, locked.currency),
                    "reason": "requested_by_customer",
                    "metadata": {
                        "payment": str(locked.uuid),
                        "organization": str(locked.organization_id),
                    },
                },
                options={"idempotency_key": refund_idempotency_key(locked, number)},
            )
        except stripe.IdempotencyError as exc:
            raise ValidationError(
                "A refund of this payment is still being recorded: reload the page "
                "in a minute before refunding again."
            ) from exc
        except StripeError as exc:
            raise ValidationError(error_message(exc)) from exc
        return payment_refund(
            payment=locked,
            by=by,
            amount=from_minor(refund.amount, refund.currency),
            reason=reason,
            stripe_refund=refund.id,
            status="pending" if refund.status == "pending" else "succeeded",
        )
