"""Fixtures of the reports tests.

Alpha's client Acme Trading (Sam on its staff: Sam's client where the firm
limits staff to their own), fiscal year January to December, and `record` to
write a trial balance through the ledger's service from a compact form:
{("1000", "Checking", "Bank"): Decimal("100.00"), ...}, debit positive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from reports.models import TrialBalance
from reports.services import AccountData, BalanceRow, trial_balance_record
from tests.factories import make_client


@pytest.fixture
def acme(cast) -> Client:
    return make_client(cast.alpha, "Acme Trading", entity_type="llc", staff=cast.sam)


def balance_rows(balances: dict[tuple, Decimal | int | str]) -> list[BalanceRow]:
    rows = []
    for (number, name, account_type, *subtype), value in balances.items():
        value = Decimal(value)
        rows.append(
            BalanceRow(
                AccountData(
                    name, account_type, number=number, subtype=(subtype or [""])[0]
                ),
                debit=max(value, Decimal(0)),
                credit=max(-value, Decimal(0)),
            )
        )
    return rows


@pytest.fixture
def record(cast) -> Callable[..., TrialBalance]:
    def record(client: Client, day: date, balances: dict) -> TrialBalance:
        with tenant_context(client.organization):
            return trial_balance_record(
                client=client,
                period_end=day,
                rows=balance_rows(balances),
                source="csv",
                raw=[],
                user=cast.alice,
            )

    return record


@pytest.fixture
def books(cast) -> Callable[..., None]:
    """`books(client, months)`: the demo trade business's trial balances for
    `months` month-ends to Dec 2026, through the ledger's service."""
    from reports.demo import demo_trial_balances

    def load(client: Client, months: int) -> None:
        with tenant_context(client.organization):
            for day, rows in demo_trial_balances(
                last=date(2026, 12, 31), months=months
            ):
                trial_balance_record(
                    client=client,
                    period_end=day,
                    rows=[
                        BalanceRow(
                            AccountData(name, kind, number=number, subtype=sub),
                            debit,
                            credit,
                        )
                        for number, name, kind, sub, debit, credit in rows
                    ],
                    source="csv",
                    raw=[],
                )

    return load


@pytest.fixture
def media(settings, tmp_path):
    """The test's own file store: built statements are real files."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path
