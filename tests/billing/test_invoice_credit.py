"""Credit notes from the invoice's page: up to what is still owed, with a reason."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.payments import payment_record

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/credit/"


def _notes(invoice) -> list[Invoice]:
    with tenant_context(invoice.organization):
        return list(Invoice.objects.filter(credited_invoice=invoice))


def test_it_issues_a_credit_note_and_reduces_the_balance(cast, login_as, issued):
    response = login_as(cast.sam).post(
        _url(issued), {"amount": "150", "reason": "Agreed discount"}, follow=True
    )

    (note,) = _notes(issued)
    assert (note.display_number, note.total, note.memo) == (
        "CN-00001",
        D("150.00"),
        "Agreed discount",
    )
    with tenant_context(cast.alpha):
        issued.refresh_from_db()
    assert issued.balance == D("350.00")
    assert "CN-00001 issued for 150.00 USD." in response.content.decode()


def test_crediting_the_rest_settles_the_invoice(cast, login_as, issued):
    with tenant_context(cast.alpha):
        payment_record(invoice=issued, by=cast.sam, amount=D("400"), method="cash")

    login_as(cast.sam).post(_url(issued), {"amount": "100", "reason": "Rounding"})

    with tenant_context(cast.alpha):
        issued.refresh_from_db()
    assert (issued.status, issued.balance) == ("paid", 0)


def test_more_than_is_owed_is_refused_on_the_form(cast, login_as, issued):
    response = login_as(cast.sam).post(
        _url(issued), {"amount": "600", "reason": "Too much"}
    )

    assert response.status_code == 200
    assert "cannot exceed what is still owed (500.00 USD)" in response.content.decode()
    assert _notes(issued) == []


def test_a_reason_is_required(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), {"amount": "10", "reason": ""})

    assert "This field is required." in response.content.decode()
    assert _notes(issued) == []


def test_a_draft_gets_no_credit_note(cast, login_as, draft):
    response = login_as(cast.sam).post(
        _url(draft), {"amount": "10", "reason": "x"}, follow=True
    )

    assert "Issue the invoice first." in response.content.decode()


def test_read_only_gets_403(cast, login_as, issued):
    assert (
        login_as(cast.rita)
        .post(_url(issued), {"amount": "1", "reason": "x"})
        .status_code
        == 403
    )
