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
from integrations.quickbooks.models import CreditApplication, QuickBooksLink, SyncIssue
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
    # The memo itself is not linked: its applications are (CreditApplication).
    assert full.counts["CreditMemo"] == {"skipped": 1}
    assert full.counts["Payment"] == {"unchanged": 1}
    (note,) = credit_notes(cast.alpha)
    assert (note.credited_invoice_id, note.total) == (invoice.pk, Decimal("50.00"))
    assert note.memo == f"QuickBooks credit memo {memo['Id']}"
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        (cash,) = Payment.objects.all()
        (applied_here,) = CreditApplication.objects.all()
        assert not QuickBooksLink.objects.filter(entity="CreditMemo").exists()
    assert (invoice.amount_credited, invoice.amount_paid) == (
        Decimal("50.00"),
        Decimal("30.00"),
    )
    assert cash.amount == Decimal("30.00")
    assert (
        applied_here.credit_note_id,
        applied_here.invoice_id,
        applied_here.memo_qbo_id,
        applied_here.payment_qbo_id,
        applied_here.amount,
    ) == (note.pk, invoice.pk, memo["Id"], payment["Id"], Decimal("50.00"))
    # Neither is written back to QuickBooks.
    assert intuit_standin.requests_to(API + "creditmemo", method="POST") == []
    assert intuit_standin.requests_to(API + "payment", method="POST") == []


@pytest.fixture
def two_pushed(cast, jane, alpha_books, firm_company):
    """Two invoices of ours, 400 and 250, in QuickBooks with their customer."""
    first = make_issued_invoice(jane, cast.alice, lines=(("Bookkeeping", 1, 400),))
    second = make_issued_invoice(jane, cast.alice, lines=(("Payroll", 1, 250),))
    sync(alpha_books)
    (customer_id,) = firm_company.entities("Customer")
    ids = {o["DocNumber"]: i for i, o in firm_company.entities("Invoice").items()}
    return (
        customer_id,
        (first, ids[first.display_number]),
        (second, ids[second.display_number]),
    )


def applied_to_several(company, customer_id, shares, credits) -> dict:
    """One payment in QuickBooks, no money: credit memos applied to invoices
    (`shares`: [(invoice id, amount)], `credits`: [(memo id, amount)])."""
    return company.add(
        "Payment",
        CustomerRef={"value": customer_id},
        TotalAmt=0,
        Line=[
            *(
                {"Amount": amount, "LinkedTxn": [{"TxnId": i, "TxnType": "Invoice"}]}
                for i, amount in shares
            ),
            *(
                {
                    "Amount": amount,
                    "LinkedTxn": [{"TxnId": m, "TxnType": "CreditMemo"}],
                }
                for m, amount in credits
            ),
        ],
    )


def credited(org, *invoices) -> list[Decimal]:
    with tenant_context(org):
        return [Invoice.objects.get(pk=i.pk).amount_credited for i in invoices]


def test_a_credit_memo_applied_to_several_invoices_credits_each_with_its_amount(
    cast, alpha_books, firm_company, intuit_standin, two_pushed
):
    customer_id, (first, first_id), (second, second_id) = two_pushed
    memo = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=150
    )
    applied_to_several(
        firm_company,
        customer_id,
        [(first_id, 100), (second_id, 50)],
        [(memo["Id"], 150)],
    )

    run = sync(alpha_books)
    full = sync(alpha_books, full=True)

    assert run.counts["Payment"] == {"credited": 1}
    assert full.counts["Payment"] == {"unchanged": 1}  # none made twice
    assert credited(cast.alpha, first, second) == [
        Decimal("100.00"),
        Decimal("50.00"),
    ]
    notes = {n.credited_invoice_id: n for n in credit_notes(cast.alpha)}
    assert {k: n.total for k, n in notes.items()} == {
        first.pk: Decimal("100.00"),
        second.pk: Decimal("50.00"),
    }
    with tenant_context(cast.alpha):
        assert not Payment.objects.exists()
        assert not SyncIssue.objects.exists()  # no conflict over the memo's total
    # Nothing of it goes back to QuickBooks.
    assert intuit_standin.requests_to(API + "creditmemo", method="POST") == []


def test_a_credit_memo_applied_by_two_payments_credits_both_invoices(
    cast, alpha_books, firm_company, intuit_standin, two_pushed
):
    customer_id, (first, first_id), (second, second_id) = two_pushed
    memo = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=150
    )
    applied(firm_company, customer_id, first_id, memo["Id"], credit=100)
    sync(alpha_books)
    applied(firm_company, customer_id, second_id, memo["Id"], credit=50, cash=200)

    run = sync(alpha_books)

    # The first payment may be read again (CDC's window): it makes nothing.
    assert run.counts["Payment"]["created"] == 1
    assert credited(cast.alpha, first, second) == [
        Decimal("100.00"),
        Decimal("50.00"),
    ]
    with tenant_context(cast.alpha):
        (cash,) = Payment.objects.all()
        assert (cash.invoice_id, cash.amount) == (second.pk, Decimal("200.00"))
        assert CreditApplication.objects.count() == 2


def test_credits_on_several_invoices_are_all_or_nothing(
    cast, alpha_books, firm_company, intuit_standin, two_pushed
):
    customer_id, (first, first_id), (second, second_id) = two_pushed
    with tenant_context(cast.alpha):
        # The second invoice is credited here meanwhile: 50 would be too much.
        credit_note_create(
            invoice=second, by=cast.alice, amount=Decimal("220"), reason="Discount"
        )
    memo = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=150
    )
    payment = applied_to_several(
        firm_company,
        customer_id,
        [(first_id, 100), (second_id, 50)],
        [(memo["Id"], 150)],
    )

    run = sync(alpha_books)

    assert run.counts["Payment"] == {"errors": 1}
    assert credited(cast.alpha, first, second) == [Decimal("0.00"), Decimal("220.00")]
    with tenant_context(cast.alpha):
        assert not CreditApplication.objects.exists()
        (issue,) = SyncIssue.objects.filter(entity="Payment")
    assert issue.key == payment["Id"]
    assert "cannot exceed what is still owed" in issue.message


def test_two_memos_over_two_invoices_are_split_in_the_payments_order(
    cast, alpha_books, firm_company, intuit_standin, two_pushed
):
    customer_id, (first, first_id), (second, second_id) = two_pushed
    memo_a = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=60
    )
    memo_b = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=90
    )
    applied_to_several(
        firm_company,
        customer_id,
        [(first_id, 100), (second_id, 50)],
        [(memo_a["Id"], 60), (memo_b["Id"], 90)],
    )

    sync(alpha_books)

    assert credited(cast.alpha, first, second) == [
        Decimal("100.00"),
        Decimal("50.00"),
    ]
    with tenant_context(cast.alpha):
        rows = sorted(
            CreditApplication.objects.values_list("memo_qbo_id", "invoice_id", "amount")
        )
    assert rows == sorted(
        [
            (memo_a["Id"], first.pk, Decimal("60.00")),
            (memo_b["Id"], first.pk, Decimal("40.00")),
            (memo_b["Id"], second.pk, Decimal("50.00")),
        ]
    )


def test_a_payment_naming_an_invoice_not_linked_here_applies_nothing(
    cast, alpha_books, firm_company, intuit_standin, two_pushed
):
    customer_id, (first, first_id), _ = two_pushed
    memo = firm_company.add(
        "CreditMemo", CustomerRef={"value": customer_id}, TotalAmt=150
    )
    applied_to_several(
        firm_company,
        customer_id,
        [(first_id, 100), ("9999", 50)],
        [(memo["Id"], 150)],
    )

    run = sync(alpha_books)

    assert run.counts["Payment"] == {"errors": 1}
    assert credited(cast.alpha, first) == [Decimal("0.00")]
    assert credit_notes(cast.alpha) == []
