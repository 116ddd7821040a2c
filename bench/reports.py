"""The reports app's part of `make bench` (bench/harness.py): the statements of
one client with a big ledger, 2,000 accounts and 36 monthly trial balances
(72,000 lines), given to the first client of each bench firm (issue 14: p95
under 100 ms a statement page).

The ledger is synthetic but shaped like a real one: every account type, a
balance on every account at every month-end (income and expense accounts
growing through each fiscal year and starting again at its first month),
each snapshot balanced through retained earnings, so the database's balance
check (reports/migrations/0001_initial.py) passes at commit as for any
writer. The rows go in with copy_rows in one transaction: the deferred check
runs once per snapshot.
"""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import statistics_refresh
from bench.harness import (
    BenchFirm,
    copy_rows,
    register_bench_seeder,
    register_scenario,
    reserve_ids,
)
from clients.models import Client
from reports.models import (
    CREDIT_SECTIONS,
    SECTION_OF,
    AccountType,
    LedgerAccount,
    TrialBalance,
    TrialBalanceLine,
)
from reports.statements import add_months

REPORT_TARGET_MS = 100.0
ACCOUNTS = 2_000
MONTHS = 36
LAST = date(2026, 11, 30)
# How the 2,000 accounts spread over the types (the rest are expenses).
SHARES = {
    AccountType.BANK: 20,
    AccountType.ACCOUNTS_RECEIVABLE: 10,
    AccountType.OTHER_CURRENT_ASSET: 150,
    AccountType.FIXED_ASSET: 120,
    AccountType.OTHER_ASSET: 40,
    AccountType.ACCOUNTS_PAYABLE: 10,
    AccountType.CREDIT_CARD: 20,
    AccountType.OTHER_CURRENT_LIABILITY: 150,
    AccountType.LONG_TERM_LIABILITY: 40,
    AccountType.EQUITY: 20,
    AccountType.INCOME: 200,
    AccountType.OTHER_INCOME: 40,
    AccountType.COST_OF_GOODS_SOLD: 180,
    AccountType.OTHER_EXPENSE: 40,
}
PNL_TYPES = {
    AccountType.INCOME,
    AccountType.OTHER_INCOME,
    AccountType.COST_OF_GOODS_SOLD,
    AccountType.EXPENSE,
    AccountType.OTHER_EXPENSE,
}


def _chart() -> list[tuple[str, str, str]]:
    """(number, name, type) of the 2,000 accounts, retained earnings first."""
    kinds = [k for k, n in SHARES.items() for _ in range(n)]
    kinds += [AccountType.EXPENSE] * (ACCOUNTS - 1 - len(kinds))
    chart = [("3999", "Retained earnings", AccountType.EQUITY)]
    for i, kind in enumerate(kinds):
        chart.append((f"{10000 + i}", f"{kind} {i:04d}", kind))
    return chart


def ledger_client(organization) -> Client | None:
    """The bench client with the big ledger: the one that has trial balances,
    else the firm's first client (one of the clients bench/clients.py seeded,
    so the firm keeps exactly its size in clients)."""
    seeded = (
        TrialBalance.objects.filter(organization=organization)
        .values_list("client_id", flat=True)
        .first()
    )
    clients = Client.objects.filter(organization=organization)
    if seeded is not None:
        return clients.get(pk=seeded)
    return clients.order_by("id").first()


def seed_ledger(*, organization, stdout=None) -> int:
    """The bench ledger client with its 36 snapshots; adds nothing when it has
    them. Call inside tenant_context(organization). Returns lines written."""
    client = ledger_client(organization)
    if client is None or TrialBalance.objects.filter(client=client).exists():
        return 0
    started = time.perf_counter()
    rng = random.Random(f"{organization.slug}:ledger")  # noqa: S311 (bench data)
    chart = _chart()
    with transaction.atomic():
        account_ids = reserve_ids(LedgerAccount, len(chart))
        copy_rows(
            LedgerAccount,
            ["id", "organization_id", "client_id", "number", "name", "account_type"],
            (
                (pk, organization.pk, client.pk, number, name, kind)
                for pk, (number, name, kind) in zip(account_ids, chart, strict=True)
            ),
        )
        first = add_months(LAST, -(MONTHS - 1))
        days = [add_months(first, m) for m in range(MONTHS)]
        snapshot_ids = reserve_ids(TrialBalance, MONTHS)
        # Each account's monthly movement (debit positive in its normal side).
        movement = {
            pk: Decimal(rng.randint(100, 500_000))
            / 100
            * (-1 if SECTION_OF[kind] in CREDIT_SECTIONS else 1)
            for pk, (_, _, kind) in zip(account_ids, chart, strict=True)
        }
        balances = dict.fromkeys(account_ids, Decimal(0))
        snapshots, lines = [], []
        retained = account_ids[0]
        for tb_id, day in zip(snapshot_ids, days, strict=True):
            if day.month == 1:  # a new fiscal year: income closes to equity
                closed = sum(
                    (
                        balances[pk]
                        for pk, (_, _, k) in zip(account_ids, chart, strict=True)
                        if k in PNL_TYPES
                    ),
                    Decimal(0),
                )
                for pk, (_, _, kind) in zip(account_ids, chart, strict=True):
                    if kind in PNL_TYPES:
                        balances[pk] = Decimal(0)
                balances[retained] += closed
            for pk in account_ids[1:]:
                balances[pk] += movement[pk] * Decimal(rng.choice((0.5, 1, 1, 1.5)))
                balances[pk] = balances[pk].quantize(Decimal("0.01"))
            balances[retained] -= sum(balances.values())
            debit = sum((v for v in balances.values() if v > 0), Decimal(0))
            snapshots.append(
                (tb_id, organization.pk, client.pk, day, "csv", debit, debit)
            )
            lines.extend(
                (organization.pk, tb_id, pk, max(v, Decimal(0)), max(-v, Decimal(0)))
                for pk, v in balances.items()
            )
        copy_rows(
            TrialBalance,
            [
                "id",
                "organization_id",
                "client_id",
                "period_end",
                "source",
                "total_debit",
                "total_credit",
            ],
            snapshots,
        )
        written = copy_rows(
            TrialBalanceLine,
            ["organization_id", "trial_balance_id", "account_id", "debit", "credit"],
            lines,
        )
    if stdout is not None:
        stdout.write(
            f"  {organization.slug}: ledger of {len(chart):,} accounts, {MONTHS} trial"
            f" balances ({written:,} lines) in {time.perf_counter() - started:.1f} s"
        )
    return written


LEDGER_TABLES = [
    "reports_ledgeraccount",
    "reports_trialbalance",
    "reports_trialbalanceline",
]


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    if seed_ledger(organization=firm.organization, stdout=stdout):
        # Fresh statistics: without them the planner guesses a handful of
        # lines and joins thousands to their accounts one probe at a time.
        statistics_refresh(LEDGER_TABLES, vacuum=True)


def _statement(name: str, firm: BenchFirm, query: str = "") -> str:
    with tenant_context(firm.organization):
        client = ledger_client(firm.organization)
    path = reverse(f"reports:{name}", args=[firm.organization.slug, client.uuid])
    return f"{path}?{query}" if query else path


@register_scenario("statement_profit_and_loss", target_p95_ms=REPORT_TARGET_MS)
def profit_and_loss(firm: BenchFirm) -> str:
    """The latest month against the prior month and a year before (5 snapshots)."""
    return _statement("profit_and_loss", firm)


@register_scenario("statement_profit_and_loss_12m", target_p95_ms=REPORT_TARGET_MS)
def profit_and_loss_12m(firm: BenchFirm) -> str:
    """Twelve months across a fiscal year end, against the twelve before."""
    return _statement("profit_and_loss", firm, "period=year")


@register_scenario("statement_balance_sheet", target_p95_ms=REPORT_TARGET_MS)
def balance_sheet(firm: BenchFirm) -> str:
    return _statement("balance_sheet", firm)


@register_scenario("statement_cash_flow", target_p95_ms=REPORT_TARGET_MS)
def cash_flow(firm: BenchFirm) -> str:
    return _statement("cash_flow", firm)


@register_scenario("statement_trial_balance", target_p95_ms=REPORT_TARGET_MS)
def trial_balance(firm: BenchFirm) -> str:
    """2,000 accounts, debit and credit at three dates."""
    return _statement("trial_balance", firm)
