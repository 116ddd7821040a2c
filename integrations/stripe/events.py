"""What a recorded Stripe event does, run by the job (integrations.stripe.tasks).

The event is a hint, never the truth: each handler reads the object again from
the firm's Stripe account, so events may come twice, late or in any order and
the result is the same. Three Checkout events go to ONE fulfil function,
`checkout_fulfil`:

- `checkout.session.completed`: paid by card (`payment_status=paid`: a
  succeeded payment), or a bank debit started (`unpaid`: a pending payment);
- `checkout.session.async_payment_succeeded` / `..._failed`: the bank debit
  cleared (the payment succeeds) or failed (it is marked failed).

Before anything is recorded the session must be this firm's: found in the
firm's own Stripe account, its metadata naming this firm and one of its
invoices, its amount and currency those of the session we opened. Anything
else is refused (`EventRefused`: the event is marked failed with the reason, a
warning is logged, nothing is recorded). An event sent to firm A's webhook URL
therefore never touches firm B: it is read in A's account, in A's database
context, and must name A.

Refunds made in Stripe's dashboard arrive as `charge.refunded` or `refund.*`:
the payment intent's refunds are listed from Stripe and each one not yet
recorded is recorded once (`payment_refund(stripe_refund=...)`), pending ones
too (the money is on its way back); a recorded one that Stripe now calls failed
or cancelled is undone (`payment_refund_settled`), so a refund that never
happened never leaves the invoice looking paid back.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import stripe
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Invoice, InvoiceKind, Payment, PaymentMethod, Refund
from billing.services.payments import (
    payment_record_online,
    payment_refund,
    payment_refund_settled,
)
from integrations.stripe.client import from_minor, stripe_client
from integrations.stripe.models import CheckoutSession, StripeAccount, StripeEvent

logger = logging.getLogger(__name__)

CHECKOUT_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    }
)
REFUND_EVENTS = frozenset(
    {
        "charge.refunded",
        "refund.created",
        "refund.updated",
        "refund.failed",
        "charge.refund.updated",
    }
)
# The events a firm's webhook endpoint should send (the connection page lists them).
SUBSCRIBED_EVENTS = (
    *sorted(CHECKOUT_EVENTS),
    "checkout.session.expired",
    "charge.refunded",
    "refund.updated",
    "refund.failed",
)


class EventRefused(Exception):
    """The event cannot be applied to this firm (and trying again will not
    help): the event is marked failed with this message."""


@dataclass(frozen=True)
class Outcome:
    status: StripeEvent.Status
    summary: str


def event_handle(*, account: StripeAccount, event: StripeEvent) -> Outcome:
    """Apply one event. Raises EventRefused for what must not be recorded, and
    Stripe's connection errors for what a retry may fix."""
    obj = (event.payload.get("data") or {}).get("object") or {}
    if event.type in CHECKOUT_EVENTS:
        return checkout_fulfil(account=account, session_id=_id_of(obj, "cs_"))
    if event.type == "checkout.session.expired":
        return _checkout_expired(account, _id_of(obj, "cs_"))
    if event.type in REFUND_EVENTS:
        intent = obj.get("payment_intent")
        if not isinstance(intent, str) or not intent.startswith("pi_"):
            return Outcome(StripeEvent.Status.IGNORED, "no payment intent")
        return refunds_sync(account=account, payment_intent=intent)
    return Outcome(StripeEvent.Status.IGNORED, f"{event.type} is not used")


def _id_of(obj: dict, prefix: str) -> str:
    object_id = obj.get("id")
    if not isinstance(object_id, str) or not object_id.startswith(prefix):
        raise EventRefused("The event names no object of the expected kind.")
    return object_id


def _read(call, what: str):
    """A read from Stripe: a 4xx is a refusal (the object is not in this
    account); connection errors and 5xx propagate for the job's retry."""
    try:
        return call()
    except stripe.InvalidRequestError as exc:
        raise EventRefused(
            f"{what} is not in this firm's Stripe account ({exc.user_message})."
        ) from exc
    except stripe.AuthenticationError as exc:
        raise EventRefused(
            "Stripe refused the firm's secret key: reconnect Stripe."
        ) from exc


def checkout_fulfil(*, account: StripeAccount, session_id: str) -> Outcome:
    """The one fulfil function: record what Stripe says now of session
    `session_id`, whatever event brought us here."""
    organization_id = account.organization_id
    session = _read(
        lambda: stripe_client(account).v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["payment_intent"]}
        ),
        f"Checkout session {session_id}",
    )
    if session.mode != "payment":
        return Outcome(StripeEvent.Status.IGNORED, f"a {session.mode} session")
    metadata = session.metadata.to_dict() if session.metadata else {}
    if metadata.get("organization") != str(organization_id):
        raise EventRefused(
            f"Checkout session {session_id} was not opened by this firm "
            f"(its metadata names firm {metadata.get('organization') or 'none'})."
        )
    invoice_uuid = _uuid_or_none(metadata.get("invoice"))
    invoice = (
        Invoice.objects.filter(
            organization_id=organization_id, uuid=invoice_uuid, kind=InvoiceKind.INVOICE
        ).first()
        if invoice_uuid
        else None
    )
    if invoice is None:
        raise EventRefused(
            f"Checkout session {session_id} names an invoice this firm does not "
            f"have ({metadata.get('invoice') or 'none'})."
        )
    opened = CheckoutSession.objects.filter(
        organization_id=organization_id, session_id=session_id
    ).first()
    if opened is None or opened.invoice_id != invoice.pk:
        raise EventRefused(
            f"Checkout session {session_id} was not opened by AdvisorOS for "
            f"{invoice.display_number}."
        )
    currency = (session.currency or "").upper()
    amount = from_minor(session.amount_total or 0, currency)
    if currency != invoice.currency.upper() or currency != opened.currency.upper():
        raise EventRefused(
            f"Checkout session {session_id} is in {currency}; "
            f"{invoice.display_number} is in {invoice.currency}."
        )
    if amount != opened.amount:
        raise EventRefused(
            f"Checkout session {session_id} is for {amount} {currency}; we opened "
            f"it for {opened.amount} {currency}."
        )
    if session.status != "complete" or not session.payment_intent:
        return Outcome(StripeEvent.Status.IGNORED, f"session {session.status}")
    intent = session.payment_intent
    if isinstance(intent, str):  # not expanded: read it
        intent = _read(
            lambda: stripe_client(account).v1.payment_intents.retrieve(intent),
            f"Payment intent {intent}",
        )
    if intent.amount != session.amount_total or (intent.currency or "").upper() != (
        currency
    ):
        raise EventRefused(
            f"Payment intent {intent.id} is for {intent.amount} {intent.currency}, "
            f"not the session's {session.amount_total} {session.currency}."
        )
    succeeded = {"succeeded": True, "processing": None}.get(intent.status, False)
    if intent.status in ("requires_action", "requires_confirmation"):
        succeeded = None
    error = intent.last_payment_error
    try:
        payment = payment_record_online(
            invoice=invoice,
            amount=amount,
            currency=currency,
            method=_method(intent),
            payment_intent=intent.id,
            checkout_session=session_id,
            succeeded=succeeded,
            failure_message=(error.message or "") if error else "",
        )
    except ValidationError as exc:
        raise EventRefused(" ".join(exc.messages)) from exc
    if opened.status != CheckoutSession.Status.COMPLETE:
        opened.status = CheckoutSession.Status.COMPLETE
        opened.save(update_fields=["status", "updated_at"])
    return Outcome(
        StripeEvent.Status.PROCESSED,
        f"{payment.get_status_display().lower()} payment of {amount} {currency} "
        f"on {invoice.display_number}",
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _method(intent) -> str:
    types = list(intent.payment_method_types or [])
    if "us_bank_account" in types and "card" not in types:
        return PaymentMethod.US_BANK_ACCOUNT
    if types == ["card"]:
        return PaymentMethod.CARD
    return PaymentMethod.OTHER


def _checkout_expired(account: StripeAccount, session_id: str) -> Outcome:
    updated = CheckoutSession.objects.filter(
        organization_id=account.organization_id,
        session_id=session_id,
        status=CheckoutSession.Status.OPEN,
    ).update(status=CheckoutSession.Status.EXPIRED, updated_at=timezone.now())
    if not updated:
        return Outcome(StripeEvent.Status.IGNORED, "no open session of ours")
    return Outcome(StripeEvent.Status.PROCESSED, "session expired")


def refunds_sync(*, account: StripeAccount, payment_intent: str) -> Outcome:
    """Record each refund of `payment_intent` that Stripe has and we do not
    (made in Stripe's dashboard, or ours whose recording was lost)."""
    payment = Payment.objects.filter(
        organization_id=account.organization_id, stripe_payment_intent=payment_intent
    ).first()
    if payment is None:
        return Outcome(StripeEvent.Status.IGNORED, "not a payment of ours")
    listed = _read(
        lambda: stripe_client(account).v1.refunds.list(
            params={"payment_intent": payment_intent, "limit": 100}
        ),
        f"Payment intent {payment_intent}",
    )
    known = {
        r.stripe_refund: r
        for r in Refund.objects.filter(
            organization_id=account.organization_id, payment=payment
        ).select_related("payment__invoice")
    }
    recorded = settled = 0
    for refund in sorted(listed.data, key=lambda r: r.created):
        ours = known.get(refund.id)
        if ours is not None:
            # A pending refund's end: succeeded, or failed and undone.
            if refund.status in ("failed", "canceled"):
                settled += payment_refund_settled(refund=ours, succeeded=False)
            elif refund.status == "succeeded":
                settled += payment_refund_settled(refund=ours, succeeded=True)
            continue
        if refund.status not in ("succeeded", "pending"):
            continue
        try:
            payment_refund(
                payment=payment,
                by=None,
                amount=from_minor(refund.amount, refund.currency),
                reason="Refunded in Stripe",
                stripe_refund=refund.id,
                status=refund.status,
            )
        except ValidationError as exc:
            raise EventRefused(
                f"Refund {refund.id} of {payment_intent}: {' '.join(exc.messages)}"
            ) from exc
        recorded += 1
    if settled:
        return Outcome(
            StripeEvent.Status.PROCESSED,
            f"{recorded} refund(s) recorded, {settled} settled",
        )
    return Outcome(StripeEvent.Status.PROCESSED, f"{recorded} refund(s) recorded")
