"""Two workers at once, on real database connections: a recurring period is
invoiced once, and a late fee charged once, however the runs overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from advisoros.tenancy.db import tenant_context
from billing.models import BillingSettings, Invoice, InvoiceKind
from billing.selectors import billing_settings
from billing.services.overdue import late_fees_charge
from billing.services.recurring import recurring_run_due
from tests.factories import (
    make_issued_invoice,
    make_recurring_invoice,
    make_retainer,
    wait_for_lock_waiters,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _race(org, first: Callable[[], int], second: Callable[[], int], statement: str):
    """Worker A runs `first` and holds its transaction open; worker B runs
    `second` meanwhile on another connection. A commits once B is seen waiting
    for a lock. Returns (A's result, B's result, whether B waited)."""
    a_done, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker_a():
        try:
            with tenant_context(org), transaction.atomic():
                results["a"] = first()
                a_done.set()
                release.wait(15)
        except Exception as exc:  # pragma: no cover - reported below
            results["a"] = exc
            a_done.set()
        finally:
            connection.close()

    def worker_b():
        try:
            with tenant_context(org):
                results["b"] = second()
        except Exception as exc:  # pragma: no cover - reported below
            results["b"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=worker_a)
    a.start()
    assert a_done.wait(15)
    b = threading.Thread(target=worker_b)
    b.start()
    waited = wait_for_lock_waiters(statement=statement)
    release.set()
    a.join(15)
    b.join(15)
    return results["a"], results["b"], waited


def test_two_runs_at_once_invoice_a_period_once(cast, jane):
    retainer = make_retainer(jane)
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=date(2027, 1, 1))
    today = date(2027, 2, 10)  # January and February due

    def run():
        return recurring_run_due(organization=cast.alpha, today=today)

    a, b, waited = _race(cast.alpha, run, run, "billing_recurringinvoice")

    assert (a, b) == (2, 0)
    assert waited  # B reached the row and its lock held it
    with tenant_context(cast.alpha):
        invoices = list(Invoice.objects.filter(recurring=recurring))
        recurring.refresh_from_db()
    assert len(invoices) == 2
    assert sorted(i.number for i in invoices) == [1, 2]
    assert recurring.next_date == date(2027, 3, 1)


def test_two_late_fee_runs_at_once_charge_one_fee(cast, jane):
    with tenant_context(cast.alpha):
        billing_settings(cast.alpha)
        BillingSettings.objects.filter(organization=cast.alpha).update(
            late_fee_percent=Decimal("2"), late_fee_after_days=30
        )
    invoice = make_issued_invoice(jane, cast.sam)
    today = date.fromordinal(invoice.due_date.toordinal() + 31)

    def charge():
        return late_fees_charge(organization=cast.alpha, today=today)

    a, b, waited = _race(cast.alpha, charge, charge, "billing_invoice")

    assert (a, b) == (1, 0)
    assert waited
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        fees = list(
            Invoice.objects.filter(kind=InvoiceKind.INVOICE).exclude(pk=invoice.pk)
        )
    assert [fee.pk for fee in fees] == [invoice.late_fee_invoice_id]
    assert fees[0].total == Decimal("10.00")
