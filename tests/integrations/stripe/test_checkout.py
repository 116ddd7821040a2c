"""Opening Checkout for an invoice: attempts, idempotency keys, amounts, methods.

The idempotency keys are asserted on what the stand-in received: the key names
the business action ("<invoice uuid>:checkout:<attempt>"), so a double click
or a retry after a timeout is one session at Stripe.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, InvoiceStatus
from billing.services.payments import payment_record
from integrations.stripe.models import CheckoutSession, StripeAccount
from tests.factories import make_draft_invoice
from tests.integrations.stripe.builders import RETURN_URL, start

CREATE = "/v1/checkout/sessions"


def creates(standin):
    return [r for r in standin.requests_to(CREATE, "POST") if r.path == CREATE]


def test_a_session_is_opened_for_the_balance_with_a_deterministic_key(
    alpha_stripe, cast, invoice, joan
):
    session = start(invoice, joan)

    (request,) = creates(alpha_stripe.standin)
    assert request.idempotency_key == f"{invoice.uuid}:checkout:1"
    params = request.params
    assert params["mode"] == "payment"
    assert params["payment_method_types"] == ["card", "us_bank_account"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == "50000"
    assert params["line_items"][0]["price_data"]["currency"] == "usd"
    assert params["metadata"] == {
        "invoice": str(invoice.uuid),
        "organization": str(cast.alpha.pk),
        "attempt": "1",
    }
    assert params["payment_intent_data"]["metadata"]["invoice"] == str(invoice.uuid)
    assert params["customer_email"] == "joan@client.test"
    assert params["success_url"] == f"{RETURN_URL}?checkout=success"
    assert params["cancel_url"] == f"{RETURN_URL}?checkout=cancel"
    assert (session.attempt, session.amount, session.currency) == (
        1,
        Decimal("500.00"),
        "USD",
    )
    assert session.url == f"{alpha_stripe.standin.url}/checkout/{session.session_id}"
    assert session.expires_at is not None


def test_a_double_click_reuses_the_open_session(alpha_stripe, invoice, joan):
    first = start(invoice, joan)
    second = start(invoice, joan)

    assert second.pk == first.pk
    assert second.session_id == first.session_id
    assert len(creates(alpha_stripe.standin)) == 1


def test_a_failed_call_is_tried_again_with_the_same_key(alpha_stripe, invoice, joan):
    alpha_stripe.standin.fail_next(CREATE, method="POST", status=500)
    with pytest.raises(ValidationError, match="Stripe refused"):
        start(invoice, joan)

    session = start(invoice, joan)

    keys = [r.idempotency_key for r in creates(alpha_stripe.standin)]
    assert keys == [f"{invoice.uuid}:checkout:1"] * 2
    assert session.attempt == 1 and session.session_id


def test_a_timeout_is_tried_again_with_the_same_key_and_gets_the_same_session(
    alpha_stripe, settings, invoice, joan
):
    """Stripe made the session but the answer came too late: the next click
    sends the same key and parameters, and Stripe answers that session."""
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    alpha_stripe.standin.fail_next(CREATE, method="POST", status=None, delay=1.0)
    with pytest.raises(ValidationError, match="could not be reached"):
        start(invoice, joan)
    with pytest.raises(ValidationError, match="being prepared"):
        start(invoice, joan)  # while Stripe still works on the first: a 409
    alpha_stripe.standin.wait_for_answers()

    session = start(invoice, joan)

    first, overtaking, second = creates(alpha_stripe.standin)
    assert overtaking.status == 409
    assert first.idempotency_key == second.idempotency_key
    assert second.replayed is True
    assert session.session_id == first_session_id(alpha_stripe)


def first_session_id(firm) -> str:
    (only,) = firm.remote.of_kind("checkout.session")
    return only["id"]


def test_a_new_amount_expires_the_old_session_and_opens_the_next_attempt(
    alpha_stripe, cast, invoice, joan
):
    first = start(invoice, joan)
    with tenant_context(cast.alpha):
        payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("200"), method="check"
        )

    second = start(invoice, joan)

    assert (second.attempt, second.amount) == (2, Decimal("300.00"))
    keys = [r.idempotency_key for r in creates(alpha_stripe.standin)]
    assert keys == [f"{invoice.uuid}:checkout:1", f"{invoice.uuid}:checkout:2"]
    (expire,) = alpha_stripe.standin.requests_to(f"{CREATE}/{first.session_id}/expire")
    assert expire.idempotency_key == f"{first.uuid}:expire"
    with tenant_context(cast.alpha):
        first.refresh_from_db()
    assert first.status == CheckoutSession.Status.EXPIRED
    assert alpha_stripe.remote.objects[first.session_id]["status"] == "expired"


def test_the_methods_follow_the_firms_choice_and_the_currency(
    alpha_stripe, cast, jane, joan
):
    with tenant_context(cast.alpha):
        StripeAccount.objects.filter(pk=alpha_stripe.account.pk).update(
            accept_ach=False
        )
    start(make_invoice(cast, jane), joan)
    with tenant_context(cast.alpha):
        StripeAccount.objects.filter(pk=alpha_stripe.account.pk).update(accept_ach=True)
    euros = make_invoice(cast, jane, currency="EUR")
    start(euros, joan)

    card_only, in_euros = creates(alpha_stripe.standin)
    assert card_only.params["payment_method_types"] == ["card"]
    assert in_euros.params["payment_method_types"] == ["card"]
    assert in_euros.params["line_items"][0]["price_data"]["currency"] == "eur"


def make_invoice(cast, client, **kw) -> Invoice:
    from tests.factories import make_issued_invoice

    invoice = make_issued_invoice(client, cast.alice)
    if kw:
        with tenant_context(cast.alpha):
            Invoice.objects.filter(pk=invoice.pk).update(**kw)
            invoice.refresh_from_db()
    return invoice


def test_euros_with_bank_accounts_only_cannot_be_paid_online(
    alpha_stripe, cast, jane, joan
):
    with tenant_context(cast.alpha):
        StripeAccount.objects.filter(pk=alpha_stripe.account.pk).update(
            accept_cards=False
        )

    with pytest.raises(ValidationError, match="only US bank accounts"):
        start(make_invoice(cast, jane, currency="EUR"), joan)
    assert creates(alpha_stripe.standin) == []


def test_without_stripe_there_is_no_checkout(cast, stripe_standin, invoice, joan):
    with pytest.raises(ValidationError, match="not turned on"):
        start(invoice, joan)
    assert stripe_standin.requests == []


def test_without_the_signing_secret_there_is_no_checkout(
    alpha_stripe, cast, invoice, joan
):
    with tenant_context(cast.alpha):
        StripeAccount.objects.filter(pk=alpha_stripe.account.pk).update(
            webhook_secret=""
        )

    with pytest.raises(ValidationError, match="not turned on"):
        start(invoice, joan)


@pytest.mark.parametrize("state", ["draft", "void", "paid"])
def test_only_an_open_invoice_is_paid_online(alpha_stripe, cast, jane, joan, state):
    from billing.services.invoices import invoice_void

    if state == "draft":
        invoice = make_draft_invoice(jane, cast.alice)
    else:
        invoice = make_invoice(cast, jane)
        with tenant_context(cast.alpha):
            if state == "void":
                invoice_void(invoice=invoice, by=cast.alice, reason="Wrong client")
            else:
                payment_record(
                    invoice=invoice, by=cast.alice, amount=Decimal("500"), method="wire"
                )

    with pytest.raises(ValidationError, match="not open for payment"):
        start(invoice, joan)
    assert creates(alpha_stripe.standin) == []


def test_a_bank_debit_in_flight_is_not_asked_for_again(alpha_stripe, invoice, joan):
    session = start(invoice, joan)
    alpha_stripe.standin.deliver(
        alpha_stripe.standin.complete_checkout(session.session_id, "us_bank_account"),
        account=alpha_stripe.remote,
    )
    with tenant_context(alpha_stripe.organization):
        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.SENT

    with pytest.raises(ValidationError, match="on its way"):
        start(invoice, joan)
