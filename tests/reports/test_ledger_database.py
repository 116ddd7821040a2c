"""The database keeps the ledger right whoever writes to it: a snapshot
balances (its stored totals are equal and are the sums of its lines, checked
at commit), lines are one-sided and never negative, account keys are unique
per client (reports/migrations/0001_initial.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from advisoros.tenancy.db import tenant_context
from reports.models import LedgerAccount, TrialBalance, TrialBalanceLine
from reports.services import AccountData, BalanceRow, trial_balance_record

pytestmark = pytest.mark.django_db

CHECKING = {("1000", "Checking", "Bank"): 100, ("4000", "Sales", "Income"): -100}


def _check_now() -> None:
    """Fire the deferred constraint triggers now (as a commit would)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_line_that_unbalances_a_snapshot_is_refused(cast, acme, record):
    tb = record(acme, date(2026, 1, 31), CHECKING)
    with tenant_context(cast.alpha):
        line = TrialBalanceLine.objects.get(trial_balance=tb, account__number="1000")

        with pytest.raises(IntegrityError, match="does not balance"):
            with transaction.atomic():
                TrialBalanceLine.objects.filter(pk=line.pk).update(debit=Decimal("90"))
                _check_now()


def test_a_snapshot_whose_lines_do_not_add_up_to_its_totals_is_refused(cast, acme):
    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError, match="does not balance"):
            with transaction.atomic():
                TrialBalance.objects.create(
                    organization=cast.alpha,
                    client=acme,
                    period_end=date(2026, 1, 31),
                    source="csv",
                    total_debit=Decimal("50"),
                    total_credit=Decimal("50"),
                )
                _check_now()


def test_unequal_stored_totals_are_refused_at_once(cast, acme):
    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError, match="trialbalance_balances"):
            with transaction.atomic():
                TrialBalance.objects.create(
                    organization=cast.alpha,
                    client=acme,
                    period_end=date(2026, 1, 31),
                    source="csv",
                    total_debit=Decimal("50"),
                    total_credit=Decimal("40"),
                )


@pytest.mark.parametrize(
    ("debit", "credit", "constraint"),
    [
        (Decimal("-1"), Decimal("0"), "trialbalanceline_not_negative"),
        (Decimal("5"), Decimal("5"), "trialbalanceline_one_side"),
    ],
)
def test_lines_are_one_sided_and_not_negative(
    cast, acme, record, debit, credit, constraint
):
    tb = record(acme, date(2026, 1, 31), CHECKING)
    with tenant_context(cast.alpha):
        line = TrialBalanceLine.objects.filter(trial_balance=tb).first()
        with pytest.raises(IntegrityError, match=constraint):
            with transaction.atomic():
                TrialBalanceLine.objects.filter(pk=line.pk).update(
                    debit=debit, credit=credit
                )


def test_a_balanced_snapshot_passes_the_check(cast, acme, record):
    record(acme, date(2026, 1, 31), CHECKING)
    record(acme, date(2026, 2, 28), CHECKING)

    _check_now()  # raises nothing

    with tenant_context(cast.alpha):
        assert TrialBalance.objects.filter(client=acme).count() == 2


def test_an_account_number_or_name_is_unique_per_client_only(cast, acme, record):
    from tests.factories import make_client

    record(acme, date(2026, 1, 31), CHECKING)
    other = make_client(cast.alpha, "Other Co")
    record(other, date(2026, 1, 31), CHECKING)  # the same chart: fine
    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError):
            with transaction.atomic():
                LedgerAccount.objects.create(
                    organization=cast.alpha,
                    client=acme,
                    name="CHECKING",
                    account_type="Bank",
                )


def test_the_service_refuses_an_unbalanced_trial_balance_before_writing(cast, acme):
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="does not balance"):
            trial_balance_record(
                client=acme,
                period_end=date(2026, 1, 31),
                rows=[BalanceRow(AccountData("Checking", "Bank"), debit=Decimal("1"))],
                source="csv",
                raw=[],
            )
        with pytest.raises(ValidationError, match="month's last day"):
            trial_balance_record(
                client=acme,
                period_end=date(2026, 1, 30),
                rows=[],
                source="csv",
                raw=[],
            )
        assert not LedgerAccount.objects.filter(client=acme).exists()


def test_accounts_are_matched_by_external_id_so_a_rename_keeps_the_link(cast, acme):
    def rows(name: str) -> list[BalanceRow]:
        return [
            BalanceRow(AccountData(name, "Bank", external_id="35"), debit=Decimal(7)),
            BalanceRow(
                AccountData("Sales", "Income", external_id="79"), credit=Decimal(7)
            ),
        ]

    with tenant_context(cast.alpha):
        for day, name in (
            (date(2026, 1, 31), "Checking"),
            (date(2026, 2, 28), "Main account"),
        ):
            trial_balance_record(
                client=acme, period_end=day, rows=rows(name), source="qbo", raw={}
            )
        accounts = LedgerAccount.objects.filter(client=acme)

        assert [(a.external_id, a.name) for a in accounts.order_by("external_id")] == [
            ("35", "Main account"),
            ("79", "Sales"),
        ]
        assert TrialBalanceLine.objects.filter(account__external_id="35").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_commit_of_an_unbalanced_snapshot_fails_and_leaves_nothing(cast, acme):
    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError, match="does not balance"):
            with transaction.atomic():
                tb = TrialBalance.objects.create(
                    organization=cast.alpha,
                    client=acme,
                    period_end=date(2026, 1, 31),
                    source="csv",
                    total_debit=Decimal("10"),
                    total_credit=Decimal("10"),
                )
                account = LedgerAccount.objects.create(
                    organization=cast.alpha,
                    client=acme,
                    name="Cash",
                    account_type="Bank",
                )
                TrialBalanceLine.objects.create(
                    organization=cast.alpha, trial_balance=tb, account=account, debit=10
                )
        assert not TrialBalance.objects.filter(client=acme).exists()
