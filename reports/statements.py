"""Financial statements computed from a client's trial-balance snapshots.

A snapshot (reports/models.py) is the trial balance as at a month's end: the
balance-sheet accounts' balances since the books began, the income and expense
accounts' totals for the fiscal year to date, prior years' net income inside
retained earnings. From that:

- a balance sheet as at a date is that date's balance-sheet accounts, plus the
  year-to-date net income as a line of equity (it is the part of equity not yet
  closed into retained earnings), so assets = liabilities + equity exactly
  whenever the snapshot balances;
- the profit and loss of a period is YTD(end) - YTD(the day before it starts)
  inside one fiscal year; a period that starts in an earlier fiscal year adds
  that year's full total (its last month-end's YTD) for each year crossed
  (`activity_points`);
- the cash flow (indirect method) of a period starts from its net income, adds
  back depreciation (the change in accumulated depreciation and amortization
  accounts), then the change of each working-capital account (receivables,
  other current assets, payables, credit cards, other current liabilities);
  investing is the change of the other fixed and other assets; financing the
  change of long-term liabilities and equity, less the prior year's net income
  that closed into retained earnings when the period crosses a fiscal year end
  (it is already in net income). Its total equals the change in the bank
  accounts: the same identity that makes the balance sheet balance.

Each statement has the chosen period's column and its comparisons (the prior
period of the same length, the same period a year earlier). A column whose
snapshots are missing is shown as unavailable, never as zeros.

Reads: `ledger_dates` (the client's snapshot dates, one query) and
`ledger_load` (every needed snapshot's lines pivoted by account, one query).
Everything else here is pure arithmetic on Decimals. Amounts are rounded
half-up to the cent once, when they enter the ledger
(`reports.services.trial_balance_record`); every figure here is a sum or
difference of those cents, exact, so a total is always the sum of the figures
printed above it and nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from django.db import connection
from django.db.models import F, Q

from clients.models import Client
from reports.models import (
    ASSET_SECTIONS,
    CREDIT_SECTIONS,
    SECTION_OF,
    ZERO,
    AccountType,
    LedgerAccount,
    Section,
    StatementTemplate,
    TrialBalance,
    cents,
    month_end,
)

# Periods a statement covers: months ending at the chosen month-end.
PERIODS: dict[str, str] = {
    "month": "Month",
    "quarter": "Quarter (3 months)",
    "ytd": "Fiscal year to date",
    "year": "12 months",
}
COMPARISONS: dict[str, str] = {
    "both": "Prior period and prior year",
    "prior_period": "Prior period",
    "prior_year": "Prior year",
    "none": "No comparison",
}
# Fixed-asset subtypes whose change is depreciation or amortization (added back
# in operating activities), QuickBooks' AccountSubType spelling.
DEPRECIATION_SUBTYPES = frozenset(
    {"AccumulatedDepreciation", "AccumulatedAmortization"}
)
WORKING_CAPITAL_TYPES = frozenset(
    {
        AccountType.ACCOUNTS_RECEIVABLE,
        AccountType.OTHER_CURRENT_ASSET,
        AccountType.ACCOUNTS_PAYABLE,
        AccountType.CREDIT_CARD,
        AccountType.OTHER_CURRENT_LIABILITY,
    }
)
PNL_SECTIONS = (
    Section.INCOME,
    Section.COST_OF_SALES,
    Section.EXPENSES,
    Section.OTHER_INCOME,
    Section.OTHER_EXPENSES,
)
SECTION_ORDER = {section: i for i, section in enumerate(Section.values)}

Amount = Decimal | None  # None: the column has no data


# Calendar -----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The last day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return month_end(date(index // 12, index % 12 + 1, 1))


def fiscal_year_start(day: date, start_month: int) -> date:
    """The first day of the fiscal year holding `day`."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def client_fiscal_start_month(client: Client) -> int:
    """The month after the client's fiscal year end (clients.Client)."""
    return client.fiscal_year_end_month % 12 + 1


@dataclass(frozen=True)
class Span:
    """Whole months: from `start` (a first of a month) to `end` (a month-end)."""

    start: date
    end: date
    role: Literal["current", "prior_period", "prior_year"] = "current"

    @property
    def months(self) -> int:
        return (
            (self.end.year - self.start.year) * 12
            + self.end.month
            - self.start.month
            + 1
        )

    @property
    def before(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.months == 1:
            return f"{self.end:%b %Y}"
        return f"{self.start:%b %Y} – {self.end:%b %Y}"

    @property
    def as_at_label(self) -> str:
        return f"{self.end:%b} {self.end.day}, {self.end.year}"


def period_months(period: str, end: date, start_month: int) -> int:
    if period == "month":
        return 1
    if period == "quarter":
        return 3
    if period == "year":
        return 12
    first = fiscal_year_start(end, start_month)
    return (end.year - first.year) * 12 + end.month - first.month + 1


def spans_for(end: date, period: str, compare: str, start_month: int) -> list[Span]:
    """The chosen period and its comparisons, in column order. A prior period
    that is the prior year (twelve-month periods) is shown once."""
    months = period_months(period, end, start_month)

    def span(last: date, role) -> Span:
        return Span(add_months(last, -(months - 1)).replace(day=1), last, role)

    spans = [span(end, "current")]
    if compare in ("both", "prior_period") and months != 12:
        spans.append(span(add_months(end, -months), "prior_period"))
    if compare in ("both", "prior_year"):
        spans.append(span(add_months(end, -12), "prior_year"))
    return spans


def activity_points(span: Span, start_month: int) -> list[tuple[date, int]]:
    """The snapshots whose year-to-date figures add up to the span's activity,
    with their signs: YTD(end) - YTD(before start) inside a fiscal year, plus
    each earlier fiscal year's full total when the span reaches back into it.
    A YTD before a fiscal year's first day is zero and needs no snapshot."""
    points: list[tuple[date, int]] = []
    last = span.end
    while True:
        points.append((last, 1))
        first = fiscal_year_start(last, start_month)
        if span.start > first:
            points.append((span.before, -1))
            return points
        if span.start == first:
            return points
        last = first - timedelta(days=1)


# Reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    id: int
    number: str
    name: str
    account_type: str
    subtype: str
    # What the statement calls it, when not "number · name": a template's group
    # name, or the name alone when the template hides account numbers.
    caption: str | None = None
    # Derived once (a statement reads them for each of 2,000 accounts).
    section: str = field(init=False)
    sign: int = field(init=False)  # -1: a credit-normal section, shown credit-positive

    def __post_init__(self) -> None:
        object.__setattr__(self, "section", SECTION_OF[self.account_type])
        object.__setattr__(self, "sign", -1 if self.section in CREDIT_SECTIONS else 1)

    @property
    def label(self) -> str:
        if self.caption is not None:
            return self.caption
        return f"{self.number} · {self.name}" if self.number else self.name

    @property
    def sort_key(self) -> tuple:
        return (SECTION_ORDER[self.section], self.number or "~", self.name.lower())


@dataclass
class Ledger:
    """Accounts with a line in any loaded snapshot, and each loaded snapshot's
    balances by account (debit positive, credit negative)."""

    accounts: list[AccountRow]
    balances: dict[date, dict[int, Decimal]]
    totals: dict[date, tuple[Decimal, Decimal]] = field(default_factory=dict)
    # A template's choice: list accounts with nothing in any column too.
    keep_zero_rows: bool = False

    def has(self, day: date) -> bool:
        return day in self.balances

    def balance(self, day: date, account_id: int) -> Decimal:
        return self.balances[day].get(account_id, ZERO)


def ledger_dates(client: Client) -> dict[date, TrialBalance]:
    """The client's snapshots by date, newest first (one query)."""
    return {
        tb.period_end: tb
        for tb in TrialBalance.objects.filter(client=client)
        .only(
            "id",
            "uuid",
            "period_end",
            "source",
            "total_debit",
            "total_credit",
            "created_at",
            "client_id",
            "organization_id",
        )
        .order_by("-period_end")
    }


def ledger_load(snapshots: dict[date, TrialBalance], wanted: Iterable[date]) -> Ledger:
    """The wanted dates' balances that exist, by account, and the accounts that
    have any (two queries, whatever the number of dates).

    The lines come through a plain cursor, debit minus credit computed in
    PostgreSQL: 10,000 lines of five snapshots in about 10 ms, where the ORM's
    converters took as long again, and where pivoting them by account in SQL
    (a FILTER aggregate a snapshot, joined to the accounts) took 20 to 50.
    The row-level security policies apply as to any query, and the firm is
    filtered explicitly as well.
    """
    found = {day: snapshots[day] for day in sorted(set(wanted)) if day in snapshots}
    ledger = Ledger(
        accounts=[],
        balances={day: {} for day in found},
        totals={day: (tb.total_debit, tb.total_credit) for day, tb in found.items()},
    )
    if not found:
        return ledger
    by_id = {tb.pk: ledger.balances[day] for day, tb in found.items()}
    first = next(iter(found.values()))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT trial_balance_id, account_id, debit - credit"
            " FROM reports_trialbalanceline"
            " WHERE organization_id = %s AND trial_balance_id = ANY(%s)",
            [first.organization_id, list(by_id)],
        )
        seen: set[int] = set()
        for trial_balance_id, account_id, value in cursor.fetchall():
            seen.add(account_id)
            if value:
                by_id[trial_balance_id][account_id] = value
    ledger.accounts = sorted(
        (
            AccountRow(*row)
            for row in LedgerAccount.objects.filter(
                organization_id=first.organization_id, client_id=first.client_id
            ).values_list("id", "number", "name", "account_type", "account_subtype")
            if row[0] in seen
        ),
        key=lambda a: a.sort_key,
    )
    return ledger


def ledger_present(
    ledger: Ledger,
    *,
    groups: dict[str, str],
    show_numbers: bool = True,
    show_zero_rows: bool = False,
) -> Ledger:
    """The ledger as a template shows it: each group of accounts (account id ->
    group name) as one account whose balance is its members' sum, names without
    numbers when asked. Totals cannot change: every balance lands in exactly one
    row. A group joins accounts of one type only (and keeps depreciation apart),
    so each member's section and cash-flow line stay what they were; a name used
    across types makes one line in each."""
    if not groups and show_numbers and not show_zero_rows:
        return ledger
    accounts: list[AccountRow] = []
    into: dict[int, int] = {}  # account id -> its group's row id
    found: dict[tuple[str, str, str], AccountRow] = {}
    for account in ledger.accounts:
        name = (groups.get(str(account.id)) or "").strip()
        if not name:
            accounts.append(
                account if show_numbers else replace(account, caption=account.name)
            )
            continue
        subtype = account.subtype if account.subtype in DEPRECIATION_SUBTYPES else ""
        key = (account.account_type, subtype, name.lower())
        row = found.get(key)
        if row is None:  # ids below zero: never a real account's
            row = found[key] = AccountRow(
                -1 - len(found),
                account.number,  # sorts where its first member was
                name,
                account.account_type,
                subtype,
                caption=name,
            )
            accounts.append(row)
        into[account.id] = row.id
    balances = ledger.balances
    if into:
        balances = {}
        for day, by_account in ledger.balances.items():
            merged: dict[int, Decimal] = {}
            for account_id, value in by_account.items():
                target = into.get(account_id, account_id)
                merged[target] = merged.get(target, ZERO) + value
            balances[day] = {k: v for k, v in merged.items() if v}
    return Ledger(
        accounts=sorted(accounts, key=lambda a: a.sort_key),
        balances=balances,
        totals=ledger.totals,
        keep_zero_rows=show_zero_rows,
    )


def needed_dates(spans: Sequence[Span], kind: str, start_month: int) -> set[date]:
    dates: set[date] = set()
    for span in spans:
        if kind in ("balance_sheet", "trial_balance"):
            dates.add(span.end)
        else:
            dates.update(day for day, _ in activity_points(span, start_month))
        if kind == "cash_flow":
            dates.update((span.end, span.before))
    return dates


# Statements ---------------------------------------------------------------------


@dataclass
class Row:
    kind: Literal["heading", "account", "subtotal", "total", "grand", "note"]
    label: str
    amounts: list[Amount]
    level: int = 0  # indentation of headings and accounts


@dataclass
class Column:
    span: Span
    label: str
    available: bool
    missing: list[date]


@dataclass
class Statement:
    kind: str
    title: str
    columns: list[Column]
    rows: list[Row]
    # Sub-columns of each period (the trial balance's Debit and Credit).
    sub_columns: tuple[str, ...] = ("",)
    # A check each column must pass (the balance sheet balances, the cash flow
    # ties to the bank accounts), per column; None where the column has no data.
    checks: list[bool | None] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return bool(self.columns) and self.columns[0].available

    @property
    def flat_columns(self) -> list[tuple[Column, str]]:
        return [(c, sub) for c in self.columns for sub in self.sub_columns]


def _columns(ledger: Ledger, spans: Sequence[Span], needs) -> list[Column]:
    columns = []
    for span in spans:
        missing = sorted(day for day in needs(span) if not ledger.has(day))
        label = span.as_at_label if needs is _as_at else span.label
        columns.append(Column(span, label, not missing, missing))
    return columns


def _as_at(span: Span) -> list[date]:
    return [span.end]


def _add(total: list[Amount], amounts: Sequence[Amount]) -> None:
    for i, value in enumerate(amounts):
        if total[i] is not None and value is not None:
            total[i] += value


def _blank(columns: Sequence[Column]) -> list[Amount]:
    return [ZERO if c.available else None for c in columns]


def _section_rows(
    accounts: Iterable[AccountRow],
    columns: Sequence[Column],
    amount_of,
    *,
    level: int = 1,
    keep_zero: bool = False,
) -> tuple[list[Row], list[Amount]]:
    """An account row each with a figure in some column (each, with
    `keep_zero`), and their total."""
    rows, total = [], _blank(columns)
    for account in accounts:
        amounts = [amount_of(account, c.span) if c.available else None for c in columns]
        if keep_zero or any(amounts):
            rows.append(Row("account", account.label, amounts, level))
            _add(total, amounts)
    return rows, total


def _combine(
    columns: Sequence[Column], *parts: tuple[int, list[Amount]]
) -> list[Amount]:
    out = _blank(columns)
    for sign, amounts in parts:
        _add(out, [None if v is None else sign * v for v in amounts])
    return out


def _activity(ledger: Ledger, start_month: int):
    """The account's activity over a span, sign-adjusted for its section."""
    # By the span object's id: a statement's columns hold the same spans for
    # every account, and hashing a frozen dataclass each call cost more than
    # the sums (2,000 accounts x 3 columns).
    terms: dict[int, list[tuple[dict[int, Decimal], bool]]] = {}

    def amount_of(account: AccountRow, span: Span) -> Decimal:
        found_terms = terms.get(id(span))
        if found_terms is None:  # the span's snapshots, looked up once
            found_terms = terms[id(span)] = [
                (ledger.balances[day], sign > 0)
                for day, sign in activity_points(span, start_month)
            ]
        value = ZERO
        for balances, add in found_terms:
            found = balances.get(account.id)
            if found:
                value = value + found if add else value - found
        return -value if account.sign < 0 else value

    return amount_of


def _by_section(ledger: Ledger, section: str) -> list[AccountRow]:
    return [a for a in ledger.accounts if a.section == section]


def _pnl_parts(ledger: Ledger, columns: Sequence[Column], start_month: int):
    amount_of = _activity(ledger, start_month)
    return {
        section: _section_rows(
            _by_section(ledger, section),
            columns,
            amount_of,
            keep_zero=ledger.keep_zero_rows,
        )
        for section in PNL_SECTIONS
    }


def _net_income(parts, columns) -> list[Amount]:
    return _combine(
        columns,
        (1, parts[Section.INCOME][1]),
        (-1, parts[Section.COST_OF_SALES][1]),
        (-1, parts[Section.EXPENSES][1]),
        (1, parts[Section.OTHER_INCOME][1]),
        (-1, parts[Section.OTHER_EXPENSES][1]),
    )


def profit_and_loss(
    ledger: Ledger, spans: Sequence[Span], start_month: int
) -> Statement:
    columns = _columns(
        ledger, spans, lambda s: [d for d, _ in activity_points(s, start_month)]
    )
    parts = _pnl_parts(ledger, columns, start_month)
    rows: list[Row] = []

    def section(key: str, title: str, total_label: str) -> None:
        accounts, total = parts[key]
        if accounts:
            rows.append(Row("heading", title, [], 0))
            rows.extend(accounts)
        rows.append(Row("subtotal", total_label, total))

    section(Section.INCOME, "Income", "Total income")
    section(Section.COST_OF_SALES, "Cost of sales", "Total cost of sales")
    gross = _combine(
        columns, (1, parts[Section.INCOME][1]), (-1, parts[Section.COST_OF_SALES][1])
    )
    rows.append(Row("total", "Gross profit", gross))
    section(Section.EXPENSES, "Expenses", "Total expenses")
    operating = _combine(columns, (1, gross), (-1, parts[Section.EXPENSES][1]))
    rows.append(Row("total", "Net operating income", operating))
    if parts[Section.OTHER_INCOME][0] or parts[Section.OTHER_EXPENSES][0]:
        section(Section.OTHER_INCOME, "Other income", "Total other income")
        section(Section.OTHER_EXPENSES, "Other expenses", "Total other expenses")
        other = _combine(
            columns,
            (1, parts[Section.OTHER_INCOME][1]),
            (-1, parts[Section.OTHER_EXPENSES][1]),
        )
        rows.append(Row("total", "Net other income", other))
    rows.append(Row("grand", "Net income", _net_income(parts, columns)))
    return Statement("profit_and_loss", "Profit and loss", columns, rows)


def _ytd_income(ledger: Ledger, columns: Sequence[Column], day_of) -> list[Amount]:
    """Year-to-date net income at each column's date (credit-positive)."""
    out = []
    for column in columns:
        day = day_of(column.span)
        if not column.available or not ledger.has(day):
            out.append(None)
            continue
        value = sum(
            (
                ledger.balance(day, a.id)
                for a in ledger.accounts
                if a.section in PNL_SECTIONS
            ),
            ZERO,
        )
        out.append(cents(-value))
    return out


def balance_sheet(ledger: Ledger, spans: Sequence[Span], start_month: int) -> Statement:
    columns = _columns(ledger, spans, _as_at)

    def amount_of(account: AccountRow, span: Span) -> Decimal:
        return account.sign * ledger.balance(span.end, account.id)

    rows: list[Row] = []
    totals: dict[str, list[Amount]] = {}

    def group(
        title: str, sections: Sequence[tuple[str, str]], total_label: str
    ) -> list[Amount]:
        rows.append(Row("heading", title, [], 0))
        group_total = _blank(columns)
        for key, label in sections:
            accounts, total = _section_rows(
                _by_section(ledger, key),
                columns,
                amount_of,
                level=2,
                keep_zero=ledger.keep_zero_rows,
            )
            totals[key] = total
            if accounts:
                rows.append(Row("heading", label, [], 1))
                rows.extend(accounts)
                rows.append(Row("subtotal", f"Total {label.lower()}", total, 1))
            _add(group_total, total)
        rows.append(Row("total", total_label, group_total))
        return group_total

    assets = group(
        "Assets",
        [(s, Section(s).label) for s in ASSET_SECTIONS],
        "Total assets",
    )
    liabilities = group(
        "Liabilities",
        [
            (Section.CURRENT_LIABILITIES, Section.CURRENT_LIABILITIES.label),
            (Section.LONG_TERM_LIABILITIES, Section.LONG_TERM_LIABILITIES.label),
        ],
        "Total liabilities",
    )
    rows.append(Row("heading", "Equity", [], 0))
    accounts, equity = _section_rows(
        _by_section(ledger, Section.EQUITY),
        columns,
        amount_of,
        keep_zero=ledger.keep_zero_rows,
    )
    rows.extend(accounts)
    net_income = _ytd_income(ledger, columns, lambda s: s.end)
    rows.append(Row("account", "Net income (fiscal year to date)", net_income, 1))
    _add(equity, net_income)
    rows.append(Row("total", "Total equity", equity))
    both = _combine(columns, (1, liabilities), (1, equity))
    rows.append(Row("grand", "Total liabilities and equity", both))
    checks = [None if a is None else a == b for a, b in zip(assets, both, strict=True)]
    return Statement("balance_sheet", "Balance sheet", columns, rows, checks=checks)


def trial_balance(ledger: Ledger, spans: Sequence[Span], start_month: int) -> Statement:
    columns = _columns(ledger, spans, _as_at)
    rows: list[Row] = []
    totals = [ZERO if c.available else None for c in columns for _ in range(2)]
    for account in ledger.accounts:
        amounts: list[Amount] = []
        for column in columns:
            if not column.available:
                amounts.extend([None, None])
                continue
            value = ledger.balances[column.span.end].get(account.id, ZERO)
            amounts.extend((value, ZERO) if value > 0 else (ZERO, -value))
        if ledger.keep_zero_rows or any(amounts):
            rows.append(Row("account", account.label, amounts, 0))
            _add(totals, amounts)
    rows.append(Row("grand", "Total", totals))
    checks = []
    for i, column in enumerate(columns):
        if not column.available:
            checks.append(None)
            continue
        debit, credit = totals[2 * i], totals[2 * i + 1]
        stored = ledger.totals[column.span.end]
        checks.append(debit == credit == stored[0] == stored[1])
    return Statement(
        "trial_balance",
        "Trial balance",
        columns,
        rows,
        sub_columns=("Debit", "Credit"),
        checks=checks,
    )


def cash_flow(ledger: Ledger, spans: Sequence[Span], start_month: int) -> Statement:
    columns = _columns(
        ledger,
        spans,
        lambda s: sorted(
            {s.end, s.before} | {d for d, _ in activity_points(s, start_month)}
        ),
    )
    parts = _pnl_parts(ledger, columns, start_month)
    net_income = _net_income(parts, columns)

    def change(account: AccountRow, span: Span) -> Decimal:
        """Cash effect of the account's change: a debit increase uses cash."""
        return -(
            ledger.balances[span.end].get(account.id, ZERO)
            - ledger.balances[span.before].get(account.id, ZERO)
        )

    def is_depreciation(a: AccountRow) -> bool:
        return (
            a.account_type == AccountType.FIXED_ASSET
            and a.subtype in DEPRECIATION_SUBTYPES
        )

    rows: list[Row] = [Row("heading", "Operating activities", [], 0)]
    rows.append(Row("account", "Net income", net_income, 1))
    depreciation_rows, depreciation = _section_rows(
        [a for a in ledger.accounts if is_depreciation(a)], columns, change, level=1
    )
    if depreciation_rows:
        rows.append(Row("account", "Depreciation and amortization", depreciation, 1))
    working_rows, working = _section_rows(
        [a for a in ledger.accounts if a.account_type in WORKING_CAPITAL_TYPES],
        columns,
        change,
        level=2,
    )
    if working_rows:
        rows.append(Row("heading", "Changes in working capital", [], 1))
        rows.extend(working_rows)
    operating = _combine(columns, (1, net_income), (1, depreciation), (1, working))
    rows.append(Row("subtotal", "Net cash from operating activities", operating))

    investing_rows, investing = _section_rows(
        [
            a
            for a in ledger.accounts
            if a.account_type in (AccountType.FIXED_ASSET, AccountType.OTHER_ASSET)
            and not is_depreciation(a)
        ],
        columns,
        change,
    )
    rows.append(Row("heading", "Investing activities", [], 0))
    rows.extend(investing_rows)
    rows.append(Row("subtotal", "Net cash from investing activities", investing))

    financing_rows, financing = _section_rows(
        [
            a
            for a in ledger.accounts
            if a.account_type in (AccountType.LONG_TERM_LIABILITY, AccountType.EQUITY)
        ],
        columns,
        change,
    )
    # Prior years' income closed into retained earnings inside the span is in
    # net income already: YTD income moved by less than the span's income.
    ytd_end = _ytd_income(ledger, columns, lambda s: s.end)
    ytd_before = _ytd_income(ledger, columns, lambda s: s.before)
    closed = _combine(columns, (1, ytd_end), (-1, ytd_before), (-1, net_income))
    if any(closed):
        financing_rows.append(
            Row("account", "Less: prior year's net income closed to equity", closed, 1)
        )
        _add(financing, closed)
    rows.append(Row("heading", "Financing activities", [], 0))
    rows.extend(financing_rows)
    rows.append(Row("subtotal", "Net cash from financing activities", financing))

    net_change = _combine(columns, (1, operating), (1, investing), (1, financing))
    rows.append(Row("total", "Net change in cash", net_change))
    banks = [a for a in ledger.accounts if a.account_type == AccountType.BANK]

    def cash_at(day_of) -> list[Amount]:
        return [
            cents(sum((ledger.balance(day_of(c.span), a.id) for a in banks), ZERO))
            if c.available
            else None
            for c in columns
        ]

    opening, closing = cash_at(lambda s: s.before), cash_at(lambda s: s.end)
    rows.append(Row("account", "Cash at the beginning of the period", opening, 0))
    rows.append(Row("grand", "Cash at the end of the period", closing))
    checks = [
        None if n is None else o + n == c
        for n, o, c in zip(net_change, opening, closing, strict=True)
    ]
    return Statement("cash_flow", "Cash flow", columns, rows, checks=checks)


BUILDERS = {
    "profit_and_loss": profit_and_loss,
    "balance_sheet": balance_sheet,
    "trial_balance": trial_balance,
    "cash_flow": cash_flow,
}
TITLES = {
    "profit_and_loss": "Profit and loss",
    "balance_sheet": "Balance sheet",
    "trial_balance": "Trial balance",
    "cash_flow": "Cash flow",
}


def statement_build(
    *,
    kind: str,
    snapshots: dict[date, TrialBalance],
    end: date,
    period: str,
    compare: str,
    start_month: int,
    template: StatementTemplate | None = None,
) -> Statement:
    """The statement `kind` for the period ending `end` with its comparisons,
    laid out by `template` (two queries: `ledger_load`). A trial balance lists
    every account: groups do not apply to it."""
    spans = spans_for(end, period, compare, start_month)
    ledger = ledger_load(snapshots, needed_dates(spans, kind, start_month))
    if template is not None:
        ledger = ledger_present(
            ledger,
            groups={} if kind == "trial_balance" else template.groups,
            show_numbers=template.show_account_numbers,
            show_zero_rows=template.show_zero_rows,
        )
    return BUILDERS[kind](ledger, spans, start_month)


def template_for(client: Client) -> StatementTemplate | None:
    """The client's template, else the firm's default, else None (one query)."""
    return (
        StatementTemplate.objects.filter(organization_id=client.organization_id)
        .filter(Q(client=client) | Q(client__isnull=True))
        .order_by(F("client_id").asc(nulls_last=True))
        .first()
    )
