"""Refunding a manual payment: part or all of it, never more than it brought;
card and bank payments are refunded through Stripe, not here."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, Payment
from billing.services.payments import payment_record, payment_record_online

D = Decimal


@pytest.fixture
def check(cast, issued) -> Payment:
    with tenant_context(cast.alpha):
        return payment_record(
            invoice=issued, by=cast.sam, amount=D("500"), method="check"
        )


def _url(payment) -> str:
    return f"/o/alpha/billing/invoices/payments/{payment.uuid}/refund/"


def _form(payment, **fields) -> dict:
    return {f"refund-{payment.uuid}-{k}": v for k, v in fields.items()}


def _fresh(obj):
    with tenant_context(obj.organization):
        return type(obj).objects.get(pk=obj.pk)


def test_a_partial_refund_reopens_the_invoice(cast, login_as, issued, check):
    response = login_as(cast.sam).post(
        _url(check), _form(check, amount="200", reason="Fee waived"), follow=True
    )

    assert "Refund of 200.00 USD recorded." in response.content.decode()
    assert _fresh(check).amount_refunded == D("200.00")
    invoice = _fresh(issued)
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        "partial",
        D("300.00"),
        D("200.00"),
    )
    with tenant_context(cast.alpha):
        (refund,) = check.refunds.all()
    assert (refund.reason, refund.created_by_id) == ("Fee waived", cast.sam.pk)


def test_a_refund_larger_than_the_payment_is_refused(cast, login_as, check):
    response = login_as(cast.sam).post(_url(check), _form(check, amount="500.01"))

    assert response.status_code == 200
    assert "You can refund at most 500.00 USD of this payment." in (
        response.content.decode()
    )
    assert _fresh(check).amount_refunded == 0


def test_a_second_refund_only_reaches_what_is_left(cast, login_as, check):
    web = login_as(cast.sam)
    web.post(_url(check), _form(check, amount="400"))

    response = web.post(_url(check), _form(check, amount="200"))

    assert "at most 100.00 USD" in response.content.decode()
    assert _fresh(check).amount_refunded == D("400.00")


def test_an_overpaid_invoice_is_refunded_back_to_paid(cast, login_as, issued, check):
    with tenant_context(cast.alpha):
        payment_record_online(
            invoice=issued,
            amount=D("500"),
            currency="usd",
            method="card",
            payment_intent="pi_twice",
            succeeded=True,
        )

    login_as(cast.sam).post(_url(check), _form(check, amount="500"))

    invoice = _fresh(issued)
    assert (invoice.status, invoice.balance) == ("paid", 0)


def test_a_card_payment_is_refunded_through_stripe_not_here(cast, login_as, issued):
    with tenant_context(cast.alpha):
        card = payment_record_online(
            invoice=issued,
            amount=D("100"),
            currency="usd",
            method="card",
            payment_intent="pi_card",
            succeeded=True,
        )

    response = login_as(cast.sam).post(
        _url(card), _form(card, amount="100"), follow=True
    )

    assert "refunded through Stripe" in response.content.decode()
    assert _fresh(card).amount_refunded == 0


def test_read_only_gets_403_and_another_firm_404(cast, login_as, check):
    assert (
        login_as(cast.rita).post(_url(check), _form(check, amount="1")).status_code
        == 403
    )
    assert (
        login_as(cast.oscar).post(_url(check), _form(check, amount="1")).status_code
        == 404
    )
    assert _fresh(check).amount_refunded == 0
    assert isinstance(_fresh(check.invoice), Invoice)
