"""The ledger's write path: a chart of accounts and trial balances as plain data.

Every source goes through here: the CSV import (reports/csv_import.py) and the
QuickBooks sync (integrations/quickbooks, which passes each account's Id as its
`external_id` and the TrialBalance report's rows). Nothing is half-applied: a
trial balance is checked as a whole (`balance_rows_check`), then its accounts
and lines are written in one transaction, and the database checks it again at
commit (reports/migrations/0001_initial.py).

Accounts are matched by external id when the source has ids, never by name,
so a rename on either side keeps the link; a source without ids (a spreadsheet)
matches by account number, then by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from advisoros.accounts.models import User
from clients.models import Client
from reports.models import (
    ZERO,
    AccountType,
    LedgerAccount,
    LedgerSource,
    TrialBalance,
    TrialBalanceLine,
    cents,
    is_month_end,
)
from reports.outputs import scheduled_outputs_mark_stale

# Larger than any trial balance a firm's client has; keeps sums inside the
# columns' 18 digits.
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class AccountData:
    """An account as a source gives it."""

    name: str
    account_type: str  # an AccountType value
    number: str = ""
    subtype: str = ""
    external_id: str = ""
    # QuickBooks' Active; None (a CSV) leaves an existing account's flag alone.
    is_active: bool | None = None


@dataclass(frozen=True)
class BalanceRow:
    """One row of a trial balance: an account and its debit or credit."""

    account: AccountData
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass
class RowProblem:
    index: int  # the row's position in the list given (0-based); -1: the whole set
    column: str
    message: str


@dataclass
class Matched:
    """Each given account's existing row (None: to create), and the problems."""

    accounts: list[LedgerAccount | None]
    problems: list[RowProblem] = field(default_factory=list)


# Checks -------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def balance_rows_check(rows: Sequence[BalanceRow]) -> list[RowProblem]:
    """What is wrong with `rows` as a trial balance, whatever the ledger holds:
    unknown types, negative or two-sided amounts, an account twice, totals that
    differ. Pure."""
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        account = row.account
        if not account.name.strip():
            problems.append(
                RowProblem(index, "account_name", "The account has no name.")
            )
        if account.account_type not in AccountType.values:
            problems.append(
                RowProblem(
                    index,
                    "account_type",
                    f"“{account.account_type}” is not an account type.",
                )
            )
        for column, value in (("debit", row.debit), ("credit", row.credit)):
            if value < 0:
                problems.append(
                    RowProblem(
                        index,
                        column,
                        f"The {column} is negative: put the amount in the "
                        f"{'credit' if column == 'debit' else 'debit'} column instead.",
                    )
                )
            elif value > MAX_AMOUNT:
                problems.append(RowProblem(index, column, "The amount is too large."))
        if row.debit and row.credit:
            problems.append(
                RowProblem(
                    index,
                    "credit",
                    "Both a debit and a credit: a trial balance row has one or the "
                    "other (net them).",
                )
            )
        for kind, value in (
            ("external id", account.external_id),
            ("number", account.number),
            ("name", _key(account.name)),
        ):
            if not value:
                continue
            if (kind, value) in seen:
                problems.append(
                    RowProblem(
                        index,
                        "account_name" if kind == "name" else "account_number",
                        f"The same account (by {kind}) as row "
                        f"{seen[(kind, value)] + 1} of the list: each account once.",
                    )
                )
            else:
                seen[(kind, value)] = index
    debit = sum((r.debit for r in rows), ZERO)
    credit = sum((r.credit for r in rows), ZERO)
    if debit != credit:
        problems.append(
            RowProblem(
                -1,
                "",
                f"The trial balance does not balance: debits {debit:,.2f}, credits "
                f"{credit:,.2f} (a difference of {abs(debit - credit):,.2f}).",
            )
        )
    return problems


def ledger_accounts_match(
    *, client: Client, accounts: Sequence[AccountData]
) -> Matched:
    """Each of `accounts` matched to the client's existing account (one query),
    with the clashes a write would hit: two given accounts on one existing
    account, or a new name or number that another existing account holds."""
    existing = list(LedgerAccount.objects.filter(client=client))
    by_external = {a.external_id: a for a in existing if a.external_id}
    by_number = {a.number: a for a in existing if a.number}
    by_name = {_key(a.name): a for a in existing}
    matched: list[LedgerAccount | None] = []
    for data in accounts:
        found = None
        if data.external_id:
            found = by_external.get(data.external_id)
        if found is None and data.number:
            candidate = by_number.get(data.number)
            if candidate is not None and not (
                data.external_id and candidate.external_id
            ):
                found = candidate
        if found is None:
            candidate = by_name.get(_key(data.name))
            # By name only where the source's other keys cannot contradict it.
            if (
                candidate is not None
                and not (data.external_id and candidate.external_id)
                and not (data.number and candidate.number)
            ):
                found = candidate
        matched.append(found)
    result = Matched(matched)
    claimed: dict[int, int] = {}
    for index, found in enumerate(matched):
        if found is None:
            continue
        if found.pk in claimed:
            result.problems.append(
                RowProblem(
                    index,
                    "account_name",
                    f"Row {claimed[found.pk] + 1} of the list is the same account "
                    f"({found}).",
                )
            )
        claimed[found.pk] = index
    for index, (data, found) in enumerate(zip(accounts, matched, strict=True)):
        holder = by_name.get(_key(data.name))
        if holder is not None and holder is not found and holder.pk not in claimed:
            result.problems.append(
                RowProblem(
                    index,
                    "account_name",
                    f"Another account of this client is already named “{holder.name}”"
                    f" ({holder.number or 'no number'}).",
                )
            )
        holder = by_number.get(data.number) if data.number else None
        if holder is not None and holder is not found and holder.pk not in claimed:
            result.problems.append(
                RowProblem(
                    index,
                    "account_number",
                    f"Account number {data.number} belongs to another account "
                    f"(“{holder.name}”).",
                )
            )
    return result


# Writes -------------------------------------------------------------------------


def _raise(problems: list[RowProblem]) -> None:
    raise ValidationError(
        [
            (f"Row {p.index + 1}: " if p.index >= 0 else "") + p.message
            for p in problems
        ],
        code="invalid_ledger",
    )


def ledger_accounts_save(
    *, client: Client, accounts: Sequence[AccountData]
) -> list[LedgerAccount]:
    """Create or update the client's accounts; the saved rows in the given order.

    A matched account takes the source's name, number, type and subtype (the
    chart changed there), and its external id once it has one. Raises
    ValidationError on a clash (see `ledger_accounts_match`).
    """
    bad = [
        RowProblem(i, "account_type", f"“{a.account_type}” is not an account type.")
        for i, a in enumerate(accounts)
        if a.account_type not in AccountType.values
    ]
    if bad:
        _raise(bad)
    with transaction.atomic():
        matched = ledger_accounts_match(client=client, accounts=accounts)
        if matched.problems:
            _raise(matched.problems)
        fields = ["name", "number", "account_type", "account_subtype", "external_id"]
        saved: list[LedgerAccount] = []
        changed: list[LedgerAccount] = []
        new: list[LedgerAccount] = []
        for data, found in zip(accounts, matched.accounts, strict=True):
            values = {
                "name": " ".join(data.name.split())[:255],
                "number": data.number.strip()[:40],
                "account_type": data.account_type,
                "account_subtype": data.subtype.strip()[:64],
                "external_id": data.external_id or (found.external_id if found else ""),
            }
            if data.is_active is not None:
                values["is_active"] = data.is_active
            if found is None:
                account = LedgerAccount(
                    organization_id=client.organization_id, client=client, **values
                )
                new.append(account)
            else:
                account = found
                if any(getattr(account, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(account, k, v)
                    changed.append(account)
            saved.append(account)
        if changed:
            # Renames first under temporary names would be needed for swaps of
            # two names; a clash check above refuses those instead.
            LedgerAccount.objects.bulk_update(
                changed, [*fields, "is_active", "updated_at"]
            )
        if new:
            LedgerAccount.objects.bulk_create(new)
    return saved


def trial_balance_record(
    *,
    client: Client,
    period_end: date,
    rows: Sequence[BalanceRow],
    source: str,
    raw: list | dict,
    user: User | None = None,
) -> TrialBalance:
    """Record the client's trial balance as at `period_end` (a month's last day),
    replacing the one it had for that date; all of it or nothing.

    `rows` name their accounts as plain data (saved with `ledger_accounts_save`);
    `raw` is what the source gave, kept as it was. Raises ValidationError when
    the rows are not a balanced trial balance.
    """
    if source not in LedgerSource.values:
        raise ValueError(f"Unknown ledger source {source!r}")
    if not is_month_end(period_end):
        raise ValidationError(
            "A trial balance is as at a month's last day.", code="not_month_end"
        )
    # The ledger's one rounding: each amount half-up to the cent, before the
    # check, so the stored totals are the sums of the stored lines.
    rows = [BalanceRow(r.account, cents(r.debit), cents(r.credit)) for r in rows]
    problems = balance_rows_check(rows)
    if problems:
        _raise(problems)
    with transaction.atomic():
        # One writer of a client's ledger at a time: two imports (or an import
        # and a QuickBooks pull) of the same month would both find no snapshot
        # and the second fail on the one-per-date constraint, or both add the
        # same new account.
        Client.objects.select_for_update().only("pk").get(pk=client.pk)
        accounts = ledger_accounts_save(
            client=client, accounts=[row.account for row in rows]
        )
        replaced = TrialBalance.objects.filter(client=client, period_end=period_end)
        before = _figures(
            TrialBalanceLine.objects.filter(trial_balance__in=replaced).values_list(
                "account_id", "debit", "credit"
            )
        )
        replaced.delete()
        trial_balance = TrialBalance.objects.create(
            organization_id=client.organization_id,
            client=client,
            period_end=period_end,
            source=source,
            raw=raw,
            total_debit=sum((r.debit for r in rows), ZERO),
            total_credit=sum((r.credit for r in rows), ZERO),
            recorded_by=user,
        )
        TrialBalanceLine.objects.bulk_create(
            TrialBalanceLine(
                organization_id=client.organization_id,
                trial_balance=trial_balance,
                account=account,
                debit=row.debit,
                credit=row.credit,
            )
            for row, account in zip(rows, accounts, strict=True)
        )
        after = _figures(
            (account.pk, row.debit, row.credit)
            for row, account in zip(rows, accounts, strict=True)
        )
        if before is not None and before != after:
            # Files the schedule built from the replaced figures are built
            # again (a pull that brings the same figures changes nothing).
            scheduled_outputs_mark_stale(client=client, period_end=period_end)
    return trial_balance


def _figures(lines) -> frozenset[tuple[int, Decimal, Decimal]] | None:
    """A snapshot's figures by account, zero lines left out; None: no lines."""
    found = [(a, d, c) for a, d, c in lines]
    if not found:
        return None
    return frozenset((a, d, c) for a, d, c in found if d or c)


def trial_balance_delete(*, trial_balance: TrialBalance) -> None:
    """Remove a snapshot and its lines (its accounts stay: other snapshots use them)."""
    with transaction.atomic():
        TrialBalanceLine.objects.filter(trial_balance=trial_balance).delete()
        trial_balance.delete()
