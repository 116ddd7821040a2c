"""An issued invoice's page: lines with their write-ups and write-downs (staff
see them, the client never), totals, payments with refunds, credit notes, what
happened when, the payments panel slot, and the actions each state allows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from advisoros.panels import _slots, register_panel
from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import (
    credit_note_create,
    invoice_add_time,
    invoice_issue,
    invoice_line_update,
    invoice_mark_viewed,
    invoice_void,
)
from billing.services.payments import (
    payment_record,
    payment_record_online,
    payment_refund,
)
from tests.factories import make_draft_invoice, write_time_entry

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/"


def test_it_shows_the_number_status_lines_and_balance(cast, login_as, issued):
    html = login_as(cast.sam).get(_url(issued)).content.decode()

    assert 'data-testid="invoice-number">INV-00001<' in html
    assert 'data-testid="invoice-status">Sent<' in html
    assert "Tax return" in html
    assert 'data-testid="balance">500.00 USD<' in html
    assert f"/o/alpha/billing/invoices/{issued.uuid}/pdf/" in html
    # Issued: nothing to edit, everything else to do.
    assert "/lines/" not in html and "/issue/" not in html
    for action in ("payments/", "credit/", "void/", "resend/"):
        assert f"/o/alpha/billing/invoices/{issued.uuid}/{action}" in html


def test_the_payment_form_offers_the_balance(cast, login_as, issued):
    with tenant_context(cast.alpha):
        payment_record(invoice=issued, by=cast.sam, amount=D("120"), method="check")

    response = login_as(cast.sam).get(_url(issued))

    assert response.context["payment_form"].initial["amount"] == D("380.00")
    assert 'value="380.00"' in response.content.decode()


def test_write_ups_and_downs_show_to_staff(cast, login_as, jane):
    write_time_entry(jane, cast.sam, minutes=60, rate="200")
    draft = make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        line = invoice_add_time(invoice=draft, by=cast.sam)[0]
        invoice_line_update(
            line=line, by=cast.sam, amount=D("150"), adjustment_reason="Agreed cap"
        )
        invoice_issue(invoice=draft, by=cast.sam)

    html = login_as(cast.rita).get(_url(draft)).content.decode()

    assert 'data-testid="adjustment">-50.00<' in html
    assert "Agreed cap" in html


def test_the_steps_show_issued_emailed_viewed_and_paid(cast, login_as, issued):
    with tenant_context(cast.alpha):
        Invoice.objects.filter(pk=issued.pk).update(
            sent_at=timezone.now(), sent_to="ap@jane.test"
        )
        invoice_mark_viewed(invoice=issued)
        payment_record(invoice=issued, by=cast.sam, amount=D("500"), method="wire")

    response = login_as(cast.sam).get(_url(issued))

    steps = {label: when for label, when, _ in response.context["steps"]}
    assert all(steps.values())
    html = response.content.decode()
    assert "to ap@jane.test" in html
    assert 'data-testid="invoice-status">Paid<' in html
    assert response.context["payment_form"] is None  # nothing owed


def test_payments_show_with_their_refunds(cast, login_as, issued):
    with tenant_context(cast.alpha):
        payment = payment_record(
            invoice=issued,
            by=cast.sam,
            amount=D("300"),
            method="check",
            reference="#1042",
        )
        payment_refund(
            payment=payment, by=cast.sam, amount=D("50"), reason="Fee waived"
        )

    html = login_as(cast.sam).get(_url(issued)).content.decode()

    assert "#1042" in html and "Check" in html
    assert 'data-testid="refund-row"' in html and "Fee waived" in html
    assert "−50.00" in html
    assert f"/o/alpha/billing/invoices/payments/{payment.uuid}/refund/" in html


def test_an_overpaid_invoice_shows_the_amount_to_refund(cast, login_as, issued):
    with tenant_context(cast.alpha):
        for intent in ("pi_a", "pi_b"):  # two checkouts paid
            payment_record_online(
                invoice=issued,
                amount=D("500"),
                currency="usd",
                method="card",
                payment_intent=intent,
                succeeded=True,
            )

    response = login_as(cast.sam).get(_url(issued))

    assert response.context["overpaid"] == D("500.00")
    html = response.content.decode()
    assert 'data-testid="overpaid">Overpaid by <strong>500.00 USD</strong>' in html
    # Card payments are refunded through Stripe: no manual refund form for them.
    assert "/refund/" not in html


def test_an_overpaid_manual_payment_offers_the_overpayment(cast, login_as, issued):
    with tenant_context(cast.alpha):
        payment_record(invoice=issued, by=cast.sam, amount=D("500"), method="check")
        payment_record_online(
            invoice=issued,
            amount=D("500"),
            currency="usd",
            method="card",
            payment_intent="pi_late",
            succeeded=True,
        )
    response = login_as(cast.sam).get(_url(issued))

    (manual,) = [p for p in response.context["payments"] if p.is_manual]
    assert manual.refund_form.initial["amount"] == D("500.00")


def test_credit_notes_are_listed_and_link_back(cast, login_as, issued):
    with tenant_context(cast.alpha):
        note = credit_note_create(
            invoice=issued, by=cast.sam, amount=D("100"), reason="Discount agreed"
        )
    web = login_as(cast.sam)

    html = web.get(_url(issued)).content.decode()
    assert f"/o/alpha/billing/invoices/{note.uuid}/" in html and "CN-00001" in html
    assert "Discount agreed" in html
    note_html = web.get(_url(note)).content.decode()
    assert 'data-testid="credited-invoice">INV-00001<' in note_html
    assert "/void/" not in note_html and "/payments/" not in note_html


def test_a_void_invoice_says_why_and_offers_nothing_more(cast, login_as, issued):
    with tenant_context(cast.alpha):
        invoice_void(invoice=issued, by=cast.sam, reason="Sent to the wrong client")

    html = login_as(cast.sam).get(_url(issued)).content.decode()

    assert "Sent to the wrong client" in html
    assert 'data-testid="invoice-status">Void<' in html
    for action in ("payments/", "credit/", "void/", "resend/"):
        assert f"{issued.uuid}/{action}" not in html


def test_an_overdue_invoice_reads_overdue(cast, login_as, issued):
    with tenant_context(cast.alpha):
        Invoice.objects.filter(pk=issued.pk).update(
            due_date=timezone.localdate() - timedelta(days=3)
        )

    html = login_as(cast.sam).get(_url(issued)).content.decode()

    assert 'data-testid="invoice-status">Overdue<' in html


def test_read_only_sees_no_actions(cast, login_as, issued):
    html = login_as(cast.rita).get(_url(issued)).content.decode()

    assert "Tax return" in html
    for action in ("payments/", "credit/", "void/", "resend/"):
        assert f"{issued.uuid}/{action}" not in html


def test_the_payments_slot_draws_what_an_upper_app_registered(cast, login_as, issued):
    seen = []

    def context(request, invoice):
        seen.append(invoice.pk)
        return {"messages": [f"Stripe panel for {invoice.display_number}"]}

    # Any template will do: this one draws its `messages`.
    register_panel(
        "invoice_payments", template="partials/messages.html", context=context
    )
    try:
        html = login_as(cast.sam).get(_url(issued)).content.decode()
    finally:
        _slots["invoice_payments"] = [
            p for p in _slots["invoice_payments"] if p.context is not context
        ]

    assert seen == [issued.pk]
    assert "Stripe panel for INV-00001" in html


def test_another_firm_gets_404(cast, login_as, issued):
    assert login_as(cast.oscar).get(_url(issued)).status_code == 404


def test_the_query_count_does_not_grow_with_payments(
    cast, login_as, jane, django_assert_num_queries
):
    invoice = make_draft_invoice(jane, cast.sam, lines=[("Fee", "1", "10000")])
    with tenant_context(cast.alpha):
        invoice_issue(invoice=invoice, by=cast.sam)
    web = login_as(cast.alice)
    web.get(_url(invoice))
    for count in (1, 8):
        with tenant_context(cast.alpha):
            for _ in range(count):
                payment = payment_record(
                    invoice=invoice, by=cast.sam, amount=D("100"), method="check"
                )
                payment_refund(payment=payment, by=cast.sam, amount=D("10"))
            credit_note_create(invoice=invoice, by=cast.sam, amount=D("5"), reason="x")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms, 5 the invoice with its client, engagement and credited
        # invoice, 6 its lines, 7 its payments with who recorded them, 8 their
        # refunds, 9 its credit notes, 10 reset the RLS context.
        with django_assert_num_queries(10):
            response = web.get(_url(invoice))
        assert response.status_code == 200
    assert len(response.context["payments"]) == 9
