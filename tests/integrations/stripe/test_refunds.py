"""Refunds through Stripe from the staff side: never beyond what was paid, one
refund per click (idempotency key "<payment uuid>:refund:<n>"), managers only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from billing.models import InvoiceStatus, Payment
from billing.services.payments import payment_record
from integrations.stripe.checkout import payment_refund_through_stripe
from tests.integrations.stripe.builders import fresh, payments_of, start

REFUNDS = "/v1/refunds"


@pytest.fixture
def paid(alpha_stripe, invoice, joan) -> Payment:
    """Jane's invoice paid by card through Stripe."""
    session = start(invoice, joan)
    alpha_stripe.standin.deliver(
        alpha_stripe.standin.complete_checkout(session.session_id),
        account=alpha_stripe.remote,
    )
    (payment,) = payments_of(invoice)
    return payment


def refund(cast, payment, amount: str, by=None):
    with tenant_context(cast.alpha):
        return payment_refund_through_stripe(
            payment=payment,
            amount=Decimal(amount),
            reason="Goodwill",
            by=by or cast.mia,
        )


def test_a_refund_goes_through_stripe_and_is_recorded(alpha_stripe, cast, paid):
    first = refund(cast, paid, "100")
    second = refund(cast, paid, "50.50")

    keys = [r.idempotency_key for r in alpha_stripe.standin.requests_to(REFUNDS)]
    assert keys == [f"{paid.uuid}:refund:1", f"{paid.uuid}:refund:2"]
    assert first.stripe_refund.startswith("re_")
    assert (first.amount, second.amount) == (Decimal("100.00"), Decimal("50.50"))
    charge = next(iter(alpha_stripe.remote.of_kind("charge")))
    assert charge["amount_refunded"] == 15050
    invoice = fresh(paid.invoice)
    assert (invoice.status, invoice.amount_paid) == (
        InvoiceStatus.PARTIAL,
        Decimal("349.50"),
    )


def test_a_refund_larger_than_what_was_paid_is_refused_before_stripe(
    alpha_stripe, cast, paid
):
    with pytest.raises(ValidationError, match="at most 500.00 USD"):
        refund(cast, paid, "500.01")

    assert alpha_stripe.standin.requests_to(REFUNDS) == []
    with tenant_context(cast.alpha):
        assert paid.refunds.count() == 0


def test_stripes_own_refusal_is_shown_and_nothing_is_recorded(alpha_stripe, cast, paid):
    """A refund made in Stripe's dashboard whose event has not arrived yet:
    we think 500 is refundable, Stripe knows 100 is left."""
    alpha_stripe.standin.refund_from_dashboard(paid.stripe_payment_intent, 40000)

    with pytest.raises(ValidationError, match="greater than unrefunded amount"):
        refund(cast, paid, "200")

    with tenant_context(cast.alpha):
        assert paid.refunds.count() == 0
    assert fresh(paid.invoice).status == InvoiceStatus.PAID


def test_the_refund_event_that_follows_records_nothing_twice(alpha_stripe, cast, paid):
    done = refund(cast, paid, "100")
    events = [
        e for e in alpha_stripe.remote.events if e["type"] in ("charge.refunded",)
    ]

    alpha_stripe.standin.deliver(events, account=alpha_stripe.remote)

    with tenant_context(cast.alpha):
        assert list(paid.refunds.values_list("stripe_refund", flat=True)) == [
            done.stripe_refund
        ]
    assert fresh(paid.invoice).amount_paid == Decimal("400.00")


def test_a_manual_payment_is_not_refunded_through_stripe(alpha_stripe, cast, invoice):
    with tenant_context(cast.alpha):
        check = payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("50"), method="check"
        )

    with pytest.raises(ValidationError, match="not made through Stripe"):
        refund(cast, check, "10")


# The page's action -----------------------------------------------------------------


def url(payment) -> str:
    return f"/o/alpha/integrations/stripe/payments/{payment.uuid}/refund/"


def test_a_manager_refunds_from_the_invoice_page(alpha_stripe, cast, login_as, paid):
    back = "/o/alpha/billing/invoices/x/"

    response = login_as(cast.mia).post(
        url(paid), {"amount": "25.00", "reason": "Fee waived", "next": back}
    )

    assert (response.status_code, response.url) == (302, back)
    with tenant_context(cast.alpha):
        (done,) = paid.refunds.all()
    assert (done.amount, done.reason, done.created_by) == (
        Decimal("25.00"),
        "Fee waived",
        cast.mia,
    )


def test_staff_cannot_refund_and_an_outside_address_is_not_followed(
    alpha_stripe, cast, login_as, paid
):
    assert login_as(cast.sam).post(url(paid), {"amount": "5"}).status_code == 403

    response = login_as(cast.mia).post(
        url(paid), {"amount": "5", "next": "https://evil.test/"}
    )

    assert response.url == "/o/alpha/integrations/stripe/"


def test_a_refund_too_large_from_the_page_says_why(alpha_stripe, cast, login_as, paid):
    response = login_as(cast.mia).post(url(paid), {"amount": "900"}, follow=True)

    assert "You can refund at most 500.00 USD" in response.content.decode()
    with tenant_context(cast.alpha):
        assert paid.refunds.count() == 0
