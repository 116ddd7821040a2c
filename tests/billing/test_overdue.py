"""Invoices past due: marked overdue, reminded at the firm's cadence (each
reminder once), charged the late fee once; and the hourly jobs that do it for
each firm on its own date."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from billing.models import (
    BillingSettings,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
)
from billing.selectors import billing_settings
from billing.services.invoices import (
    credit_note_create,
    invoice_issue,
    invoice_mark_viewed,
    invoice_void,
)
from billing.services.overdue import (
    invoice_reminders_send,
    late_fees_charge,
    overdue_invoices_mark,
)
from billing.services.payments import payment_record
from billing.tasks import overdue_invoices_run, recurring_invoices_run
from clients.models import ClientContact, Contact, ContactRole
from tests.factories import (
    make_client,
    make_draft_invoice,
    make_issued_invoice,
    make_recurring_invoice,
    make_retainer,
)

D = Decimal


@pytest.fixture
def billing_contact(cast, jane):
    with tenant_context(cast.alpha):
        contact = Contact.objects.create(
            organization=cast.alpha, first_name="Jane", email="jane@example.test"
        )
        ClientContact.objects.create(
            organization=cast.alpha,
            client=jane,
            contact=contact,
            role=ContactRole.BILLING,
        )
    return contact


@pytest.fixture
def invoice(cast, jane, billing_contact):
    """INV-00001, 500.00 USD, issued today, due in 30 days."""
    return make_issued_invoice(jane, cast.sam)


def _rules(org, **values) -> None:
    with tenant_context(org):
        billing_settings(org)
        BillingSettings.objects.filter(organization=org).update(**values)


def _fresh(invoice: Invoice) -> Invoice:
    with tenant_context(invoice.organization):
        invoice.refresh_from_db()
    return invoice


def _after_due(invoice: Invoice, days: int) -> date:
    return invoice.due_date + timedelta(days=days)


def _mark(org, today):
    with tenant_context(org):
        return overdue_invoices_mark(organization=org, today=today)


def _remind(org, today):
    with tenant_context(org):
        return invoice_reminders_send(organization=org, today=today)


def _charge(org, today):
    with tenant_context(org):
        return late_fees_charge(organization=org, today=today)


# Overdue ------------------------------------------------------------------------------


def test_sent_and_viewed_invoices_past_due_become_overdue(cast, jane, invoice):
    viewed = make_issued_invoice(jane, cast.sam)
    partial = make_issued_invoice(jane, cast.sam)
    paid = make_issued_invoice(jane, cast.sam)
    void = make_issued_invoice(jane, cast.sam)
    draft = make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        invoice_mark_viewed(invoice=viewed)
        payment_record(invoice=partial, by=cast.sam, amount=D("100"), method="check")
        payment_record(invoice=paid, by=cast.sam, amount=D("500"), method="check")
        invoice_void(invoice=void, by=cast.sam, reason="Wrong client")
        note = credit_note_create(
            invoice=partial, by=cast.sam, amount=D("50"), reason="Goodwill"
        )

    assert _mark(cast.alpha, invoice.due_date) == 0  # due today: not late yet
    assert _mark(cast.alpha, _after_due(invoice, 1)) == 2
    assert _mark(cast.alpha, _after_due(invoice, 2)) == 0

    statuses = {
        name: _fresh(obj).status
        for name, obj in {
            "sent": invoice,
            "viewed": viewed,
            "partial": partial,
            "paid": paid,
            "void": void,
            "draft": draft,
            "note": note,
        }.items()
    }
    assert statuses == {
        "sent": InvoiceStatus.OVERDUE,
        "viewed": InvoiceStatus.OVERDUE,
        "partial": InvoiceStatus.PARTIAL,  # money came in: it says so
        "paid": InvoiceStatus.PAID,
        "void": InvoiceStatus.VOID,
        "draft": InvoiceStatus.DRAFT,
        "note": InvoiceStatus.SENT,
    }


def test_an_overdue_invoice_paid_in_full_is_paid(cast, invoice):
    _mark(cast.alpha, _after_due(invoice, 1))
    with tenant_context(cast.alpha):
        payment_record(invoice=invoice, by=cast.sam, amount=D("500"), method="wire")
    assert _fresh(invoice).status == InvoiceStatus.PAID


# Reminders ----------------------------------------------------------------------------


def test_each_reminder_day_sends_one_reminder_once(cast, invoice):
    _rules(cast.alpha, reminder_days="3, 14,30")
    sent = []
    for days in (2, 3, 3, 10, 14, 14, 29, 30, 31, 60):
        sent.append(_remind(cast.alpha, _after_due(invoice, days)))

    assert sent == [0, 1, 0, 0, 1, 0, 0, 1, 0, 0]
    assert [m.subject for m in mail.outbox] == [
        "Reminder: invoice INV-00001 is due"
    ] * 3
    assert mail.outbox[0].to == ["jane@example.test"]
    invoice = _fresh(invoice)
    assert invoice.reminders_sent == 3
    assert invoice.last_reminded_at is not None


def test_a_run_after_days_down_sends_one_reminder_not_a_burst(cast, invoice):
    assert _remind(cast.alpha, _after_due(invoice, 40)) == 1

    assert len(mail.outbox) == 1
    assert _fresh(invoice).reminders_sent == 3  # 3, 14 and 30 all covered


def test_a_failed_send_is_tried_again_and_then_sent_once(cast, invoice, settings):
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailers = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }
    with pytest.raises(RuntimeError, match="1 reminder"):
        _remind(cast.alpha, _after_due(invoice, 3))
    assert _fresh(invoice).reminders_sent == 0  # rolled back with the failed send

    settings.MAILERS = mailers  # the mail server is back
    assert _remind(cast.alpha, _after_due(invoice, 3)) == 1
    assert _remind(cast.alpha, _after_due(invoice, 3)) == 0
    assert len(mail.outbox) == 1


def test_paid_and_credited_invoices_are_not_reminded_partial_ones_are(
    cast, jane, invoice, billing_contact
):
    partial = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        payment_record(invoice=invoice, by=cast.sam, amount=D("500"), method="check")
        payment_record(invoice=partial, by=cast.sam, amount=D("100"), method="check")
    mail.outbox.clear()  # the receipts

    assert _remind(cast.alpha, _after_due(invoice, 3)) == 1

    assert _fresh(invoice).reminders_sent == 0
    assert _fresh(partial).reminders_sent == 1


def test_without_an_address_the_reminder_is_skipped_not_retried(cast):
    nobody = make_client(cast.alpha, "No Email Ltd")
    invoice = make_issued_invoice(nobody, cast.sam)

    assert _remind(cast.alpha, _after_due(invoice, 3)) == 0

    assert mail.outbox == []
    assert _fresh(invoice).reminders_sent == 1


def test_a_firm_without_reminder_days_sends_none(cast, invoice):
    _rules(cast.alpha, reminder_days="")
    assert _remind(cast.alpha, _after_due(invoice, 30)) == 0
    assert mail.outbox == []


# Late fees ----------------------------------------------------------------------------


def test_the_late_fee_is_a_separate_issued_invoice_charged_once(cast, invoice):
    _rules(cast.alpha, late_fee_percent=D("1.5"), late_fee_after_days=30, tax_rate=8)

    assert _charge(cast.alpha, _after_due(invoice, 29)) == 0
    assert _charge(cast.alpha, _after_due(invoice, 30)) == 1
    assert _charge(cast.alpha, _after_due(invoice, 30)) == 0
    assert _charge(cast.alpha, _after_due(invoice, 90)) == 0

    invoice = _fresh(invoice)
    with tenant_context(cast.alpha):
        fee = Invoice.objects.get(pk=invoice.late_fee_invoice_id)
        [line] = fee.lines.all()
    assert invoice.total == D("500.00")  # the invoice itself never changes
    assert fee.number == 2
    assert fee.status == InvoiceStatus.SENT
    assert fee.issue_date == _after_due(invoice, 30)
    assert fee.client_id == invoice.client_id
    assert fee.total == D("7.50")  # 1.5% of 500.00, no tax on a fee
    assert (line.kind, line.taxable) == (LineKind.LATE_FEE, False)
    assert line.description == "Late fee on INV-00001: 1.5% of the 500.00 USD unpaid"
    assert fee.memo.startswith("Late fee on INV-00001, due ")


def test_the_fee_is_on_the_balance_rounded_half_up(cast, jane, billing_contact):
    _rules(cast.alpha, late_fee_percent=D("1"), late_fee_after_days=10)
    invoice = make_issued_invoice(jane, cast.sam, lines=[("Return", "1", "448.50")])
    with tenant_context(cast.alpha):
        payment_record(invoice=invoice, by=cast.sam, amount=D("100"), method="check")

    _charge(cast.alpha, _after_due(invoice, 10))

    with tenant_context(cast.alpha):
        fee = Invoice.objects.get(pk=_fresh(invoice).late_fee_invoice_id)
    assert fee.total == D("3.49")  # 1% of 348.50 = 3.485: half-up, not half-even


def test_no_fee_on_a_fee_on_a_paid_invoice_or_at_a_firm_that_charges_none(
    cast, jane, invoice
):
    paid = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        payment_record(invoice=paid, by=cast.sam, amount=D("500"), method="check")
    assert _charge(cast.alpha, _after_due(invoice, 100)) == 0  # the default 0%

    _rules(cast.alpha, late_fee_percent=D("2"), late_fee_after_days=30)
    assert _charge(cast.alpha, _after_due(invoice, 30)) == 1
    # A year on, the fee invoice is long past its own due date: no fee on it.
    assert _charge(cast.alpha, _after_due(invoice, 400)) == 0

    with tenant_context(cast.alpha):
        assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == 3
    assert _fresh(paid).late_fee_invoice_id is None


# The hourly jobs ----------------------------------------------------------------------


def _issue_back(client, by, days_ago: int) -> Invoice:
    draft = make_draft_invoice(client, by)
    with tenant_context(client.organization):
        today = firm_today(client.organization)
        return invoice_issue(
            invoice=draft, by=by, issue_date=today - timedelta(days=days_ago)
        )


def test_the_overdue_job_marks_and_reminds_in_each_firm(
    cast, jane, billing_contact, run_schedule
):
    late = _issue_back(jane, cast.sam, 40)  # due 10 days ago
    _issue_back(jane, cast.sam, 5)  # not due yet
    beta_client = make_client(cast.beta, "Bob Builder", email="bob@example.test")
    beta_late = _issue_back(beta_client, cast.oscar, 35)  # due 5 days ago

    # Alpha: 1 marked + 1 reminder; Beta: 1 marked + 1 reminder.
    assert run_schedule(overdue_invoices_run) == 4
    assert run_schedule(overdue_invoices_run) == 0

    assert _fresh(late).status == InvoiceStatus.OVERDUE
    assert _fresh(beta_late).status == InvoiceStatus.OVERDUE
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bob@example.test",
        "jane@example.test",
    ]


def test_the_recurring_job_makes_todays_invoices(cast, jane, run_schedule):
    today = firm_today(cast.alpha)
    make_recurring_invoice(make_retainer(jane), cast.mia, next_date=today)

    assert run_schedule(recurring_invoices_run) == 1
    assert run_schedule(recurring_invoices_run) == 0

    with tenant_context(cast.alpha):
        [made] = Invoice.objects.all()
    assert (made.status, made.issue_date) == (InvoiceStatus.SENT, today)
