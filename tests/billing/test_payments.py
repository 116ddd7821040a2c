"""Payments and refunds: manual and online, partial, over, refunded; receipts;
the `invoice_paid` signal completing the workflow step waiting for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.models import InvoiceStatus, Payment, PaymentStatus, Refund
from billing.services.payments import (
    payment_record,
    payment_record_online,
    payment_refund,
)
from clients.models import ClientContact, Contact
from tests.factories import make_draft_invoice, make_issued_invoice

D = Decimal


@pytest.fixture
def invoice(cast, jane):
    return make_issued_invoice(jane, cast.sam)


def _firm(invoice) -> Organization:
    return Organization.objects.get(pk=invoice.organization_id)


def _online(invoice, *, intent="pi_1", amount="500", succeeded=True, currency="usd"):
    with tenant_context(_firm(invoice)):
        return payment_record_online(
            invoice=invoice,
            amount=D(amount),
            currency=currency,
            method="card",
            payment_intent=intent,
            succeeded=succeeded,
        )


def _fresh(invoice):
    with tenant_context(_firm(invoice)):
        invoice.refresh_from_db()
    return invoice


def test_partial_then_full_manual_payment(
    cast, invoice, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        payment_record(invoice=invoice, by=cast.sam, amount=D("200"), method="check")
        assert _fresh(invoice).status == InvoiceStatus.PARTIAL
        assert invoice.balance == D("300.00")
        payment_record(invoice=invoice, by=cast.sam, amount=D("300"), method="wire")
    invoice = _fresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_at is not None


def test_a_manual_overpayment_is_refused_and_records_nothing(cast, invoice):
    with tenant_context(cast.alpha):
        with pytest.raises(
            ValidationError, match="more than the 500.00 USD still owed"
        ):
            payment_record(
                invoice=invoice, by=cast.sam, amount=D("500.01"), method="cash"
            )
        with pytest.raises(ValidationError, match="recorded by Stripe"):
            payment_record(invoice=invoice, by=cast.sam, amount=D("5"), method="card")
        with pytest.raises(ValidationError, match="more than nothing"):
            payment_record(invoice=invoice, by=cast.sam, amount=D("-5"), method="cash")
        assert not Payment.objects.exists()


def test_payments_go_against_issued_invoices_only(cast, jane):
    draft = make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="issued invoices"):
            payment_record(invoice=draft, by=cast.sam, amount=D("1"), method="cash")


def test_an_online_payment_is_recorded_once_per_payment_intent(cast, invoice):
    first = _online(invoice)
    again = _online(invoice)
    assert first.pk == again.pk
    invoice = _fresh(invoice)
    assert invoice.amount_paid == D("500.00")
    assert invoice.status == InvoiceStatus.PAID


def test_ach_pending_then_succeeded(cast, invoice):
    pending = _online(invoice, succeeded=None)
    assert pending.status == PaymentStatus.PENDING
    assert _fresh(invoice).amount_paid == D("0")
    done = _online(invoice, succeeded=True)
    assert done.pk == pending.pk and done.status == PaymentStatus.SUCCEEDED
    assert _fresh(invoice).status == InvoiceStatus.PAID


def test_ach_failure_is_final_and_a_late_pending_event_moves_nothing(cast, invoice):
    _online(invoice, succeeded=None)
    failed = _online(invoice, succeeded=False)
    late = _online(invoice, succeeded=None)
    assert failed.status == late.status == PaymentStatus.FAILED
    assert _fresh(invoice).amount_paid == D("0")
    assert invoice.status == InvoiceStatus.SENT


def test_out_of_order_success_before_pending_counts_once(cast, invoice):
    _online(invoice, succeeded=True)
    _online(invoice, succeeded=None)  # the earlier "completed, unpaid" arriving late
    assert _fresh(invoice).amount_paid == D("500.00")
    with tenant_context(cast.alpha):
        assert Payment.objects.count() == 1


def test_a_currency_mismatch_is_refused(cast, invoice):
    with pytest.raises(ValidationError, match="in EUR, the invoice in USD"):
        _online(invoice, currency="eur")
    assert not Payment.objects.exists()


def test_an_online_overpayment_is_absorbed_and_shown(cast, invoice):
    _online(invoice, intent="pi_a", amount="500")
    _online(invoice, intent="pi_b", amount="500")
    invoice = _fresh(invoice)
    assert invoice.amount_paid == D("1000.00")
    assert invoice.total - invoice.amount_paid == D("-500.00")
    assert invoice.status == InvoiceStatus.PAID


def test_refunds_never_exceed_what_was_paid(cast, invoice):
    payment = _online(invoice)
    with tenant_context(cast.alpha):
        payment_refund(payment=payment, by=cast.sam, amount=D("100"), reason="Goodwill")
        with pytest.raises(ValidationError, match="at most 400.00 USD"):
            payment_refund(payment=payment, by=cast.sam, amount=D("400.01"))
        # And the database says the same, whatever the code does.
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(amount_refunded=D("600"))
    invoice = _fresh(invoice)
    assert invoice.amount_paid == D("400.00")
    assert invoice.status == InvoiceStatus.PARTIAL


def test_a_refund_to_nothing_reopens_the_invoice(cast, invoice):
    payment = _online(invoice)
    with tenant_context(cast.alpha):
        payment_refund(payment=payment, by=cast.sam, amount=D("500"))
    invoice = _fresh(invoice)
    assert invoice.status == InvoiceStatus.SENT
    assert invoice.paid_at is None


def test_a_stripe_refund_is_recorded_once(cast, invoice):
    payment = _online(invoice)
    with tenant_context(cast.alpha):
        one = payment_refund(
            payment=payment, by=None, amount=D("50"), stripe_refund="re_1"
        )
        two = payment_refund(
            payment=payment, by=None, amount=D("50"), stripe_refund="re_1"
        )
        assert Refund.objects.count() == 1
    assert one.pk == two.pk
    assert _fresh(invoice).amount_paid == D("450.00")


def test_a_receipt_goes_to_the_billing_contact_once(
    cast, jane, invoice, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        contact = Contact.objects.create(
            organization=cast.alpha, first_name="Pat", email="pat@jane.test"
        )
        ClientContact.objects.create(
            organization=cast.alpha, client=jane, contact=contact, role="billing"
        )
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(cast.alpha):
            payment = payment_record(
                invoice=invoice, by=cast.sam, amount=D("500"), method="check"
            )
    receipts = [m for m in mail.outbox if m.subject.startswith("Receipt")]
    assert [m.to for m in receipts] == [["pat@jane.test"]]
    assert "500.00 USD (Check)" in receipts[0].body
    assert "paid in full" in receipts[0].body
    from billing.tasks import payment_receipt_job

    with tenant_context(cast.alpha):
        assert (
            payment_receipt_job(organization=cast.alpha, payment_id=payment.pk) is False
        )
    assert len([m for m in mail.outbox if m.subject.startswith("Receipt")]) == 1
