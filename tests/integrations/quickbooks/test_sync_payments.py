"""Payments are never duplicated: ours go to QuickBooks under a requestid of
their own, with the link written first, and come back recognised by that
link; one made in QuickBooks against our invoice is recorded here once,
however often it is read (runs, webhooks, replays)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.models import Payment
from billing.services.payments import payment_record
from integrations.quickbooks.models import QuickBooksLink
from tests.factories import make_issued_invoice
from tests.integrations.quickbooks.conftest import FIRM_REALM, sync

API = f"/v3/company/{FIRM_REALM}/"


@pytest.fixture
def paid(cast, jane):
    invoice = make_issued_invoice(
        jane, cast.alice, lines=(("Bookkeeping", "1", "400"),)
    )
    with tenant_context(cast.alpha):
        payment = payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("150"), method="check"
        )
    return invoice, payment


def payments_here(org) -> list[Payment]:
    with tenant_context(org):
        return list(Payment.objects.order_by("pk"))


def test_our_payment_is_written_once_and_recognised_when_it_comes_back(
    cast, paid, alpha_books, firm_company, intuit_standin
):
    invoice, payment = paid

    sync(alpha_books)  # pushes the customer, the invoice, the payment
    again = sync(alpha_books)  # CDC brings all three back

    (theirs,) = firm_company.entities("Payment").values()
    assert Decimal(str(theirs["TotalAmt"])) == Decimal("150.00")
    (line,) = theirs["Line"]
    invoice_id = next(iter(firm_company.entities("Invoice")))
    assert line["LinkedTxn"] == [{"TxnId": invoice_id, "TxnType": "Invoice"}]
    assert again.counts["Payment"] == {"unchanged": 1}
    assert [p.pk for p in payments_here(cast.alpha)] == [payment.pk]


def test_a_push_whose_answer_was_lost_is_finished_with_the_same_requestid(
    cast, paid, alpha_books, firm_company, intuit_standin
):
    invoice, payment = paid
    sync(alpha_books)
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Payment", payment=payment)
        qbo_id = link.qbo_id
        # The worker died after Intuit made the payment, before our commit.
        QuickBooksLink.objects.filter(pk=link.pk).update(
            qbo_id="", sync_token="", state="pushing"
        )

    replay = sync(alpha_books)

    writes = intuit_standin.requests_to(API + "payment", method="POST")
    assert len(writes) == 2
    assert writes[0].request_id == writes[1].request_id
    assert len(firm_company.entities("Payment")) == 1  # Intuit answered the first
    assert replay.counts["Payment"]["pushed"] == 1
    with tenant_context(cast.alpha):
        link.refresh_from_db()
    assert (link.qbo_id, link.state) == (qbo_id, "synced")
    assert [p.pk for p in payments_here(cast.alpha)] == [payment.pk]


def test_a_payment_made_in_quickbooks_is_recorded_here_once(
    cast, paid, alpha_books, firm_company, intuit_standin, deliver
):
    invoice, _ = paid
    sync(alpha_books)
    customer_id = next(iter(firm_company.entities("Customer")))
    invoice_id = next(iter(firm_company.entities("Invoice")))
    theirs = firm_company.add(
        "Payment",
        CustomerRef={"value": customer_id},
        TotalAmt=100,
        TxnDate=str(invoice.issue_date),
        Line=[
            {"Amount": 100, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        ],
    )
    event = intuit_standin.cloud_event(FIRM_REALM, "Payment", theirs["Id"], "created")

    deliver([event])  # the webhook's job reads it by id and records it
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Payment", theirs["Id"])])
    sync(alpha_books)  # CDC reads it too
    sync(alpha_books, full=True)  # and a full sync

    recorded = [p for p in payments_here(cast.alpha) if "QuickBooks" in p.reference]
    assert len(recorded) == 1
    assert recorded[0].amount == Decimal("100.00")
    assert recorded[0].reference == f"QuickBooks payment {theirs['Id']}"
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        assert invoice.amount_paid == Decimal("250.00")
    assert len(firm_company.entities("Payment")) == 2  # ours was never echoed back


def test_a_quickbooks_payment_for_more_than_is_owed_waits_in_the_error_queue(
    cast, paid, alpha_books, firm_company
):
    from integrations.quickbooks.models import SyncIssue

    invoice, _ = paid
    sync(alpha_books)
    invoice_id = next(iter(firm_company.entities("Invoice")))
    theirs = firm_company.add(
        "Payment",
        TotalAmt=900,
        Line=[
            {"Amount": 900, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        ],
    )

    run = sync(alpha_books)

    assert run.status == "partial"
    with tenant_context(cast.alpha):
        (issue,) = SyncIssue.objects.all()
    assert (issue.kind, issue.direction, issue.entity, issue.key) == (
        "error",
        "pull",
        "Payment",
        theirs["Id"],
    )
    assert "more than" in issue.message
    assert len(payments_here(cast.alpha)) == 1
    sync(alpha_books, full=True)
    with tenant_context(cast.alpha):
        issue.refresh_from_db()
    assert issue.attempts == 2  # the same item, counted again


def test_our_payment_read_back_before_its_push_stored_the_id_is_known_as_ours(
    cast, paid, alpha_books, firm_company, intuit_standin, deliver
):
    invoice, payment = paid
    sync(alpha_books)
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Payment", payment=payment)
        qbo_id = link.qbo_id
        # The run that pushed it has not stored QuickBooks' answer yet.
        QuickBooksLink.objects.filter(pk=link.pk).update(
            qbo_id="", sync_token="", state="pushing"
        )
    theirs = firm_company.entities("Payment")[qbo_id]
    assert theirs["PrivateNote"] == f"AdvisorOS payment {payment.uuid}"

    # Intuit's webhook about it arrives first.
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Payment", qbo_id, "created")])

    assert [p.pk for p in payments_here(cast.alpha)] == [payment.pk]
    with tenant_context(cast.alpha):
        link.refresh_from_db()
        invoice.refresh_from_db()
    assert (link.qbo_id, link.state) == (qbo_id, "synced")
    assert invoice.amount_paid == Decimal("150.00")
