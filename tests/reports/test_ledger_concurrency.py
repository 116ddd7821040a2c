"""Two writers of one client's trial balance for the same month at once (two
imports, or an import and a QuickBooks pull): the second waits for the first
and replaces its snapshot, never a unique-constraint error.

Each thread has its own database connection and transaction."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from advisoros.tenancy.db import tenant_context
from reports.models import TrialBalance
from reports.services import trial_balance_record
from tests.factories import wait_for_lock_waiters
from tests.reports.conftest import balance_rows

DEC = date(2026, 12, 31)


@pytest.mark.django_db(transaction=True)
def test_two_recordings_of_one_month_at_once_end_with_the_second(cast, acme):
    first_written = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def record(amount: str, hold: bool) -> None:
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                trial_balance_record(
                    client=acme,
                    period_end=DEC,
                    rows=balance_rows(
                        {
                            ("1000", "Checking", "Bank"): amount,
                            ("4000", "Sales", "Income"): f"-{amount}",
                        }
                    ),
                    source="csv",
                    raw=[],
                )
                if hold:
                    first_written.set()
                    release_first.wait(10)  # commit only once the other tries
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            first_written.set()
            connection.close()

    first = threading.Thread(target=record, args=("10.00", True))
    second = threading.Thread(target=record, args=("20.00", False))
    first.start()
    first_written.wait(10)
    second.start()
    waited = wait_for_lock_waiters()
    release_first.set()
    first.join(20)
    second.join(20)

    assert waited
    assert errors == []
    with tenant_context(cast.alpha):
        (snapshot,) = TrialBalance.objects.filter(client=acme)
    assert snapshot.total_debit == snapshot.total_credit == 20
