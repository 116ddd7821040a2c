"""Recording a manual payment: check, wire, cash or other; partial, then in
full; never more than owed; never on a draft or a void invoice."""

from __future__ import annotations

from decimal import Decimal

from django.core import mail

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, Payment
from billing.services.invoices import invoice_void
from tests.factories import firm_day, make_billing_contact

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/payments/"


def _fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


def _payments(invoice) -> list[Payment]:
    with tenant_context(invoice.organization):
        return list(Payment.objects.filter(invoice=invoice))


def _form(**overrides) -> dict:
    return {
        "method": "check",
        "amount": "200",
        "received_on": firm_day().isoformat(),
        "reference": "#1001",
        **overrides,
    }


def test_a_partial_then_a_full_payment(cast, login_as, issued):
    web = login_as(cast.sam)

    response = web.post(_url(issued), _form(), follow=True)
    assert _fresh(issued).status == "partial"
    assert "Payment of 200.00 USD recorded" in response.content.decode()

    web.post(_url(issued), _form(method="wire", amount="300", reference=""))
    paid = _fresh(issued)
    assert (paid.status, paid.amount_paid, paid.balance) == ("paid", D("500.00"), 0)
    methods = sorted(p.method for p in _payments(issued))
    assert methods == ["check", "wire"]
    assert all(p.recorded_by_id == cast.sam.pk for p in _payments(issued))


def test_the_receipt_is_emailed_once_the_payment_commits(
    cast, login_as, jane, issued, django_capture_on_commit_callbacks
):
    make_billing_contact(jane, "ap@jane.test")

    with django_capture_on_commit_callbacks(execute=True):
        login_as(cast.sam).post(_url(issued), _form(amount="500"))

    assert [m.subject for m in mail.outbox] == [
        "Receipt for your payment to Alpha Accounting"
    ]


def test_an_overpayment_is_refused_on_the_form(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), _form(amount="500.01"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "more than the 500.00 USD still owed on INV-00001" in html
    assert _payments(issued) == []


def test_a_card_payment_cannot_be_typed_in(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), _form(method="card"))

    assert "Select a valid choice" in response.content.decode()
    assert _payments(issued) == []


def test_a_payment_in_the_future_is_refused(cast, login_as, issued):
    tomorrow = firm_day(1)  # the firm's; the server's is some nights its today

    response = login_as(cast.sam).post(
        _url(issued), _form(received_on=tomorrow.isoformat())
    )

    assert "cannot be received in the future" in response.content.decode()


def test_a_void_invoice_takes_no_payment(cast, login_as, issued):
    with tenant_context(cast.alpha):
        invoice_void(invoice=issued, by=cast.sam, reason="Wrong client")

    response = login_as(cast.sam).post(_url(issued), _form(), follow=True)

    assert "Payments are recorded against issued invoices." in (
        response.content.decode()
    )
    assert _payments(issued) == []


def test_a_draft_takes_no_payment(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), _form(), follow=True)

    assert "Issue the invoice first." in response.content.decode()
    assert _payments(draft) == []


def test_read_only_gets_403_and_another_firm_404(cast, login_as, issued):
    assert login_as(cast.rita).post(_url(issued), _form()).status_code == 403
    assert login_as(cast.oscar).post(_url(issued), _form()).status_code == 404
    assert _payments(issued) == []
