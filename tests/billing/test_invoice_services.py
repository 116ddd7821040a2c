"""The invoice services: drafts, totals and rounding, issuing, voiding, credit notes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from billing.models import (
    BillingSettings,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    TimeEntry,
    money,
)
from billing.services.invoices import (
    credit_note_create,
    invoice_add_line,
    invoice_add_time,
    invoice_create,
    invoice_delete_draft,
    invoice_issue,
    invoice_line_remove,
    invoice_line_update,
    invoice_mark_viewed,
    invoice_update,
    invoice_void,
)
from tests.factories import make_client, make_draft_invoice, make_issued_invoice

D = Decimal


@pytest.fixture
def entries(cast, jane):
    """Three billable entries of Sam for Jane (36, 90 and 7 minutes at 150,
    150 and 200 an hour) and one not billable."""
    with tenant_context(cast.alpha):
        today = timezone.localdate()
        made = [
            TimeEntry.objects.create(
                organization=cast.alpha,
                user=cast.sam,
                client=jane,
                date=today - timedelta(days=days),
                minutes=minutes,
                rate=D(rate),
                description=text,
                billable=billable,
            )
            for days, minutes, rate, text, billable in (
                (3, 36, "150", "Bank reconciliation", True),
                (2, 90, "150", "Payroll", True),
                (1, 7, "200", "Call", True),
                (1, 60, "150", "Training", False),
            )
        ]
    return made


def test_money_rounds_half_up_to_the_cent():
    assert money(D("2.345")) == D("2.35")
    assert money(D("2.344")) == D("2.34")
    assert money(D("-2.345")) == D("-2.35")


def test_totals_apply_discount_then_tax_on_taxable_lines_rounded_once(cast, jane):
    invoice = make_draft_invoice(
        jane,
        cast.sam,
        lines=(("Return", "1", "333.33"), ("Filing fee", "3", "10.005")),
    )
    with tenant_context(cast.alpha):
        line = invoice.lines.get(description="Filing fee")
        invoice_line_update(line=line, by=cast.sam, taxable=False)
        invoice = invoice_update(
            invoice=invoice, by=cast.sam, discount_percent=D("10"), tax_rate=D("8.25")
        )
    # 3 x 10.005 = 30.015 -> 30.02 (half-up, per line); subtotal 363.35.
    assert invoice.subtotal == D("363.35")
    # 10% of 363.35 = 36.335 -> 36.34.
    assert invoice.discount_amount == D("36.34")
    # Taxable 333.33 less its discount 33.33 = 300.00; 8.25% -> 24.75.
    assert invoice.tax_amount == D("24.75")
    assert invoice.total == D("363.35") - D("36.34") + D("24.75")


def test_unbilled_time_becomes_lines_at_the_recorded_rates(cast, jane, entries):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        lines = invoice_add_time(invoice=invoice, by=cast.sam)
        invoice.refresh_from_db()
    assert len(lines) == 3  # the unbillable hour stays out
    amounts = sorted(line.amount for line in lines)
    # 7 min at 200 = 23.333 -> 23.33; 36 min at 150 = 90; 90 min at 150 = 225.
    assert amounts == [D("23.33"), D("90.00"), D("225.00")]
    assert all(line.standard_amount == line.amount for line in lines)
    assert invoice.total == D("338.33")
    with tenant_context(cast.alpha):
        billed = TimeEntry.objects.filter(invoice_line__invoice=invoice).count()
        left = TimeEntry.objects.filter(invoice_line__isnull=True).count()
    assert (billed, left) == (3, 1)


def test_time_grouped_by_engagement_and_rate(cast, jane, entries):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        lines = invoice_add_time(invoice=invoice, by=cast.sam, group_by_engagement=True)
    by_rate = {line.unit_price: line for line in lines}
    assert by_rate[D("150")].quantity == D("2.10")
    assert by_rate[D("150")].amount == D("315.00")
    assert by_rate[D("200")].amount == D("23.33")


def test_the_same_time_cannot_go_on_two_invoices(cast, jane, entries):
    with tenant_context(cast.alpha):
        first = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        invoice_add_time(invoice=first, by=cast.sam)
        second = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        with pytest.raises(ValidationError, match="no unbilled time"):
            invoice_add_time(invoice=second, by=cast.sam)


def test_write_down_keeps_the_standard_value(cast, jane, entries):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        line = invoice_add_time(invoice=invoice, by=cast.sam, entries=entries[1:2])[0]
        line = invoice_line_update(
            line=line, by=cast.sam, amount=D("200"), adjustment_reason="Courtesy"
        )
        invoice.refresh_from_db()
    assert (line.amount, line.standard_amount) == (D("200.00"), D("225.00"))
    assert line.adjustment == D("-25.00")
    assert invoice.total == D("200.00")


def test_removing_a_time_line_unbills_its_entries(cast, jane, entries):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        line = invoice_add_time(invoice=invoice, by=cast.sam, entries=entries[:1])[0]
        invoice_line_remove(line=line, by=cast.sam)
        entries[0].refresh_from_db()
        invoice.refresh_from_db()
    assert entries[0].invoice_line_id is None
    assert invoice.total == D("0")


def test_negative_quantities_and_prices_are_refused(cast, jane):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        with pytest.raises(ValidationError, match="quantity cannot be negative"):
            invoice_add_line(
                invoice=invoice,
                by=cast.sam,
                description="Refund",
                quantity=D("-1"),
                unit_price=D("10"),
            )
        with pytest.raises(ValidationError, match="price cannot be negative"):
            invoice_add_line(
                invoice=invoice,
                by=cast.sam,
                description="Refund",
                quantity=D("1"),
                unit_price=D("-10"),
            )
        assert not InvoiceLine.objects.filter(invoice=invoice).exists()


def test_a_draft_has_no_number_and_issuing_numbers_it_and_sets_the_due_date(cast, jane):
    draft = make_draft_invoice(jane, cast.sam)
    assert draft.number is None
    assert draft.display_number == "Draft"
    with tenant_context(cast.alpha):
        BillingSettings.objects.filter(organization=cast.alpha).update(
            payment_terms_days=15
        )
        issued = invoice_issue(invoice=draft, by=cast.sam, issue_date=date(2026, 3, 1))
    assert issued.number == 1
    assert issued.display_number == "INV-00001"
    assert issued.status == InvoiceStatus.SENT
    assert issued.due_date == date(2026, 3, 16)


def test_a_second_issue_is_refused_and_takes_no_number(cast, jane):
    issued = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="already issued"):
            invoice_issue(invoice=issued, by=cast.sam)
        assert BillingSettings.objects.get().next_invoice_number == 2


def test_an_issued_invoice_cannot_be_edited(cast, jane):
    issued = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        line = issued.lines.get()
        for change in (
            lambda: invoice_add_line(
                invoice=issued,
                by=cast.sam,
                description="More",
                quantity=D(1),
                unit_price=D(1),
            ),
            lambda: invoice_line_update(line=line, by=cast.sam, amount=D("1")),
            lambda: invoice_line_remove(line=line, by=cast.sam),
            lambda: invoice_update(invoice=issued, by=cast.sam, memo="x"),
            lambda: invoice_delete_draft(invoice=issued, by=cast.sam),
        ):
            with pytest.raises(ValidationError, match="issued and cannot be changed"):
                change()
        line.refresh_from_db()
    assert line.amount == D("500.00")


def test_an_empty_draft_cannot_be_issued(cast, jane):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        with pytest.raises(ValidationError, match="at least one line"):
            invoice_issue(invoice=invoice, by=cast.sam)


def test_read_only_members_and_other_firms_cannot_bill(cast, jane):
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="Read-only"):
            invoice_create(organization=cast.alpha, client=jane, by=cast.rita)
        with pytest.raises(ValidationError, match="Only members"):
            invoice_create(organization=cast.alpha, client=jane, by=cast.oscar)
    other = make_client(cast.beta, "Beta's client")
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="client of this firm"):
            invoice_create(organization=cast.alpha, client=other, by=cast.sam)


def test_void_keeps_the_number_and_unbills_the_time(cast, jane, entries):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=jane, by=cast.sam)
        invoice_add_time(invoice=invoice, by=cast.sam)
        invoice = invoice_issue(invoice=invoice, by=cast.sam)
        with pytest.raises(ValidationError, match="Say why"):
            invoice_void(invoice=invoice, by=cast.sam, reason=" ")
        voided = invoice_void(invoice=invoice, by=cast.sam, reason="Wrong client")
        assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()
    assert (voided.status, voided.number, voided.balance) == ("void", 1, D("0"))


def test_a_credit_note_is_numbered_on_its_own_and_reduces_the_balance(cast, jane):
    invoice = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="cannot exceed what is still owed"):
            credit_note_create(
                invoice=invoice, by=cast.sam, amount=D("500.01"), reason="Too much"
            )
        note = credit_note_create(
            invoice=invoice, by=cast.sam, amount=D("120"), reason="Discount agreed"
        )
        invoice.refresh_from_db()
        with pytest.raises(ValidationError, match="credit notes"):
            invoice_void(invoice=invoice, by=cast.sam, reason="x")
        assert note.lines.get().kind == LineKind.CREDIT
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.display_number == "CN-00001"
    assert (invoice.amount_credited, invoice.balance) == (D("120.00"), D("380.00"))
    assert invoice.status == InvoiceStatus.SENT


def test_crediting_the_whole_balance_settles_the_invoice(cast, jane):
    invoice = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        credit_note_create(
            invoice=invoice, by=cast.sam, amount=D("500"), reason="Waived"
        )
        invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance == D("0")


def test_viewing_marks_a_sent_invoice_viewed_once(cast, jane):
    invoice = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        first = invoice_mark_viewed(invoice=invoice)
        seen_at = first.viewed_at
        again = invoice_mark_viewed(invoice=invoice)
    assert first.status == InvoiceStatus.VIEWED
    assert again.viewed_at == seen_at


def test_the_database_refuses_a_number_on_a_draft_and_a_duplicate_number(cast, jane):
    from django.db import IntegrityError, transaction

    issued = make_issued_invoice(jane, cast.sam)
    draft = make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=draft.pk).update(number=7)
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=draft.pk).update(
                status="sent", number=issued.number
            )
