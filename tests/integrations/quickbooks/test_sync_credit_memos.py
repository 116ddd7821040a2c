"""Credit notes both ways: ours go to QuickBooks as credit memos of the
customer, once; a credit memo made in QuickBooks is a credit note here once a
payment there applies it to one of our invoices (QuickBooks applies credits
at once by default), and only once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, InvoiceKind, Payment
from billing.services.invoices import credit_note_create
from integrations.quickbooks.models import QuickBooksLink
from tests.factories import make_issued_invoice
from tests.integrations.quickbooks.conftest import FIRM_REALM, sync

API = f"/v3/company/{FIRM_REALM}/"


@pytest.fixture
def pushed(cast, jane, alpha_books, firm_company):
    """Our invoice of 400, in QuickBooks with its customer."""
    invoice = make_issued_invoice(jane, cast.alice, lines=(("Bookkeeping", 1, 400),))
    sync(alpha_books)
    (customer_id,) = firm_company.entities("Customer")
    (invoice_id,) = firm_company.entities("Invoice")
    return invoice, customer_id, invoice_id


def applied(company, customer_id, invoice_id, memo_id, *, credit, cash=0) -> dict:
    """A person receives a payment in QuickBooks applying a credit memo (and
    `cash`, maybe nothing) to the invoice."""
    return company.add(
        "Payment",
        CustomerRef={"value": customer_id},
        TotalAmt=cash,
        Line=[
            {
                "Amount": credit + cash,
                "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}],
            },
            {
                "Amount": credit,
                "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}],
            },
        ],
    )


def credit_notes(org) -> list[Invoice]:
    with tenant_context(org):
        return list(Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE))


def test_our_credit_note_is_written_as_a_credit_memo_once(
    cast, alpha_books, firm_company, intuit_standin, pushed
):
    invoice, customer_id, invoice_id = pushed
    with tenant_context(cast.alpha):
        note = credit_note_create(
            invoice=invoice, by=cast.alice, amount=Decimal("100"), reason="Discount"
        )

    run = sync(alpha_books)
    ((memo_id, memo),) = firm_company.entities("CreditMemo").items()
    # A person applies it to the invoice in QuickBooks: nothing new here.
    applied(firm_company, customer_id, invoice_id, memo_id, credit=100)
    again = sync(alpha_books)

    assert run.counts["CreditMemo"] == {"pushed": 1}
    assert memo["CustomerRef"] == {"value": customer_id}
    assert (memo["DocNumber"], memo["TotalAmt"]) == ("CN-00001", 100.0)
    assert memo["PrivateNote"] == f"AdvisorOS credit {note.uuid}"
    assert again.counts["CreditMemo"] == {"unchanged": 1}
    assert len(intuit_standin.requests_to(API + "creditmemo", method="POST")) == 1
    assert [n.pk for n in credit_notes(cast.alpha)] == [note.pk]
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        link = QuickBooksLink.objects.get(entity="CreditMemo")
        assert not Payment.objects.exists()
    assert invoice.amount_credited == Decimal("100.00")
    assert (link.invoice_id, link.qbo_id) == (note.pk, memo_id)


def test_a_credit_memo_made_in_quickbooks_is_credited_here_once_applied(
    cast, alpha_books, firm_company, intuit_standin, pushed, deliver
):
    invoice, customer_id, invoice_id = pushed
    memo = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=50
    )
    waiting = sync(alpha_books)
    payment = applied(
        firm_company, customer_id, invoice_id, memo["Id"], credit=50, cash=30
    )

    run = sync(alpha_books)
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Payment", payment["Id"])])
    full = sync(alpha_books, full=True)

    assert waiting.counts["CreditMemo"] == {"skipped": 1}  # applied to nothing yet
    assert run.counts["Payment"] == {"created": 1}
    assert full.counts["CreditMemo"] == {"unchanged": 1}
    (note,) = credit_notes(cast.alpha)
    assert (note.credited_invoice_id, note.total) == (invoice.pk, Decimal("50.00"))
    assert note.memo == f"QuickBooks credit memo {memo['Id']}"
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        (cash,) = Payment.objects.all()
        link = QuickBooksLink.objects.get(entity="CreditMemo")
    assert (invoice.amount_credited, invoice.amount_paid) == (
        Decimal("50.00"),
        Decimal("30.00"),
    )
    assert cash.amount == Decimal("30.00")
    assert (link.invoice_id, link.qbo_id) == (note.pk, memo["Id"])
    # Neither is written back to QuickBooks.
    assert intuit_standin.requests_to(API + "creditmemo", method="POST") == []
    assert intuit_standin.requests_to(API + "payment", method="POST") == []
