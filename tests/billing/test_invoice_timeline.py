"""Invoices issued and payments received on the client's timeline."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.services.invoices import credit_note_create
from billing.services.payments import payment_record, payment_refund
from clients.timeline import client_timeline
from tests.factories import make_draft_invoice, make_issued_invoice

D = Decimal


def _titles(cast, jane) -> list[str]:
    viewer = cast.membership(cast.sam, cast.alpha)
    with tenant_context(cast.alpha):
        return [
            item.title
            for item in client_timeline(jane, viewer=viewer)
            if item.kind in ("invoice", "payment")
        ]


def test_issued_invoices_credit_notes_and_payments_show_newest_first(cast, jane):
    invoice = make_issued_invoice(jane, cast.sam)
    make_draft_invoice(jane, cast.sam)  # a draft is not news
    with tenant_context(cast.alpha):
        payment = payment_record(
            invoice=invoice, by=cast.sam, amount=D("300"), method="check"
        )
        payment_refund(payment=payment, by=cast.sam, amount=D("25"))
        credit_note_create(invoice=invoice, by=cast.sam, amount=D("50"), reason="Oops")

    assert _titles(cast, jane) == [
        "Credit note CN-00001 issued on INV-00001",
        "Payment of 300.00 USD for INV-00001",
        "Invoice INV-00001 issued",
    ]


def test_the_timeline_tab_links_to_the_invoice(cast, login_as, jane):
    invoice = make_issued_invoice(jane, cast.sam)

    html = (
        login_as(cast.sam)
        .get(f"/o/alpha/clients/{jane.uuid}/?tab=timeline")
        .content.decode()
    )

    assert "Invoice INV-00001 issued" in html
    assert f'href="/o/alpha/billing/invoices/{invoice.uuid}/"' in html
    assert "500.00 USD, due" in html
