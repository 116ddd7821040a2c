"""Billing dates are the firm's: an invoice issued, a credit note written or a
payment recorded without a date takes the firm's today in its own time zone,
not the server's (UTC), which is a US firm's tomorrow every evening."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.services.invoices import credit_note_create
from billing.services.payments import payment_record
from tests.factories import make_issued_invoice


@pytest.fixture
def elsewhere(cast):
    """Alpha moved to a zone whose date is not the server's right now: UTC-12
    before noon UTC (its yesterday), UTC+14 after (its tomorrow)."""
    zone = "Etc/GMT+12" if timezone.now().hour < 12 else "Etc/GMT-14"
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(timezone=zone)
    cast.alpha.refresh_from_db()
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(zone))
    assert today != timezone.localdate()  # the test means something
    assert firm_today(cast.alpha) == today
    return today


def test_an_invoice_issued_without_a_date_is_dated_the_firms_today(
    cast, jane, elsewhere
):
    with tenant_context(cast.alpha):
        invoice = make_issued_invoice(jane, cast.alice)

    assert invoice.issue_date == elsewhere


def test_a_credit_note_and_a_payment_are_dated_the_firms_today(cast, jane, elsewhere):
    with tenant_context(cast.alpha):
        invoice = make_issued_invoice(jane, cast.alice)
        note = credit_note_create(
            invoice=invoice, by=cast.alice, amount=Decimal("50"), reason="Discount"
        )
        payment = payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("10"), method="check"
        )

    assert note.issue_date == elsewhere
    assert payment.received_on == elsewhere
