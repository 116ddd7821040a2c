"""Billed and collected by month (billing.reports.monthly): the firm's month
totals, kept by database triggers as invoices and payments are written, always
equal what the invoices and payments themselves add up to, through every
billing service; a member limited to assigned clients gets their share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.offboarding import firm_delete
from billing.models import Invoice, MonthTotal, Payment
from billing.reports.monthly import _clients_months, _firm_months, billed_and_collected
from billing.reports.period import add_months
from billing.reports.selectors import ReportScope
from billing.services.invoices import (
    credit_note_create,
    invoice_delete_draft,
    invoice_void,
)
from billing.services.payments import payment_record, payment_refund
from clients.models import Client
from tests.factories import (
    make_client,
    make_draft_invoice,
    make_issued_invoice,
    write_invoice,
    write_payment,
)

D = Decimal


def _both(organization) -> tuple[dict, dict]:
    """The month totals, and the same months added up from the rows."""
    today = firm_today(organization)
    first, last = add_months(today, -24), add_months(today, 2)
    with tenant_context(organization):
        everyone = ReportScope(
            organization=organization,
            today=today,
            clients=Client.objects.filter(organization=organization),
        )
        kept = {m: v for m, v in _firm_months(everyone, first, last).items() if any(v)}
        added = {
            m: v for m, v in _clients_months(everyone, first, last).items() if any(v)
        }
    return kept, added


def _month(organization) -> tuple[int, int]:
    today = firm_today(organization)
    with tenant_context(organization):
        row = MonthTotal.objects.filter(
            organization=organization, month=today.replace(day=1)
        ).first()
    return (row.billed_cents, row.collected_cents) if row else (0, 0)


def test_every_billing_service_keeps_the_month_totals_true(cast, jane):
    alpha = cast.alpha
    draft = make_draft_invoice(jane, cast.sam, lines=(("Books", "1", "800"),))
    assert _month(alpha) == (0, 0)  # a draft bills nothing

    issued = make_issued_invoice(jane, cast.sam, lines=(("Return", "1", "500"),))
    assert _month(alpha) == (50000, 0)

    with tenant_context(alpha):
        paid = payment_record(
            invoice=issued, by=cast.sam, amount=D("500"), method="check"
        )
        # Paid in full (sent -> paid): still billed once.
        assert Invoice.objects.get(pk=issued.pk).status == "paid"
    assert _month(alpha) == (50000, 50000)

    with tenant_context(alpha):
        payment_refund(payment=paid, by=cast.sam, amount=D("120"), reason="Goodwill")
    assert _month(alpha) == (50000, 38000)

    other = make_issued_invoice(jane, cast.sam, lines=(("Advice", "1", "300"),))
    with tenant_context(alpha):
        credit_note_create(invoice=other, by=cast.sam, amount=D("100"), reason="Fee")
    assert _month(alpha) == (70000, 38000)

    voided = make_issued_invoice(jane, cast.sam, lines=(("Oops", "1", "999"),))
    with tenant_context(alpha):
        invoice_void(invoice=voided, by=cast.sam, reason="Sent twice")
        invoice_delete_draft(invoice=draft, by=cast.sam)
    assert _month(alpha) == (70000, 38000)

    kept, added = _both(alpha)
    assert kept == added and kept


def test_rows_written_directly_and_moved_keep_them_true(cast, jane):
    """Whatever writes the rows (an import, a seeder, an admin), not only the
    services: dates and amounts moved, payments failed, rows deleted."""
    today = firm_today(cast.alpha)
    last_month = add_months(today, -1)
    invoice = write_invoice(jane, lines=[("250", "250")], issue_date=today)
    write_invoice(jane, lines=[("40", "40")], kind="credit_note", issue_date=today)
    payment = write_payment(invoice, "250", received_on=today)
    write_payment(invoice, "99", status="failed", received_on=today)
    with tenant_context(cast.alpha):
        Invoice.objects.filter(pk=invoice.pk).update(issue_date=last_month)
        Payment.objects.filter(pk=payment.pk).update(received_on=last_month)
        moved = write_invoice(jane, lines=[("10", "10")], issue_date=today)
        Invoice.objects.filter(pk=moved.pk).update(total=D("12.34"))
        gone = write_invoice(jane, lines=[("777", "777")], issue_date=today)
        Invoice.objects.filter(pk=gone.pk).delete()

    kept, added = _both(cast.alpha)

    assert kept == added
    assert kept[last_month] == (25000, 25000)
    assert kept[today.replace(day=1)] == (-4000 + 1234, 0)


def test_each_firm_has_its_own_totals(cast, jane):
    today = firm_today(cast.alpha)
    write_invoice(jane, lines=[("100", "100")], issue_date=today)
    write_invoice(
        make_client(cast.beta, "Beta's"), lines=[("900", "900")], issue_date=today
    )

    assert _month(cast.alpha) == (10000, 0)
    assert _month(cast.beta) == (90000, 0)
    with tenant_context(cast.alpha):
        assert set(MonthTotal.objects.values_list("organization_id", flat=True)) == {
            cast.alpha.pk
        }


def test_a_firms_deletion_leaves_no_totals_behind(cast, jane):
    """The deletion empties the totals before the invoices and payments
    (advisoros.tenancy.offboarding); deleting those must not write them back."""
    invoice = write_invoice(
        jane, lines=[("100", "100")], issue_date=firm_today(cast.alpha)
    )
    write_payment(invoice, "100")
    with tenant_context(cast.alpha):
        firm_delete(organization=cast.alpha)
        assert not MonthTotal.objects.exists()
    assert _month(cast.beta) == (0, 0)


@pytest.mark.parametrize("limited", [False, True])
def test_the_chart_reads_one_query_either_way(
    cast, jane, django_assert_num_queries, limited
):
    today = firm_today(cast.alpha)
    for _ in range(3):
        write_invoice(jane, lines=[("100", "100")], issue_date=today)
    with tenant_context(cast.alpha):
        scope = ReportScope(
            organization=cast.alpha,
            today=today,
            clients=Client.objects.filter(pk=jane.pk) if limited else None,
        )
        # The month totals (the firm), or the client's invoices and payments.
        with django_assert_num_queries(1):
            months = billed_and_collected(scope)
    assert months[-1].billed == D("300.00")
    assert len(months) == 12
