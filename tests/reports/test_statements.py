"""Statement arithmetic (reports/statements.py) on hand-made trial balances: the
figures a bookkeeper would compute, period activity from year-to-date
snapshots, comparisons, and the balance sheet's and cash flow's identities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from reports.statements import (
    Span,
    activity_points,
    ledger_dates,
    spans_for,
    statement_build,
)

pytestmark = pytest.mark.django_db

CASH = ("1000", "Checking", "Bank")
AR = ("1200", "Receivables", "Accounts Receivable")
VAN = ("1500", "Van", "Fixed Asset")
DEPRECIATION = (
    "1590",
    "Accumulated depreciation",
    "Fixed Asset",
    "AccumulatedDepreciation",
)
AP = ("2000", "Payables", "Accounts Payable")
LOAN = ("2700", "Loan", "Long Term Liability")
CAPITAL = ("3000", "Capital", "Equity")
RETAINED = ("3900", "Retained earnings", "Equity", "RetainedEarnings")
SALES = ("4000", "Sales", "Income")
COGS = ("5000", "Cost of goods", "Cost of Goods Sold")
RENT = ("6100", "Rent", "Expense")
DEPR_EXPENSE = ("6700", "Depreciation", "Expense")
INTEREST = ("7000", "Interest earned", "Other Income")

D = Decimal


def figures(statement, label: str) -> list:
    """The amounts of the row named `label` (the first one)."""
    return next(row.amounts for row in statement.rows if row.label.endswith(label))


def build(client, kind: str, end: date, period: str = "month", compare: str = "both"):
    with tenant_context(client.organization):
        return statement_build(
            kind=kind,
            snapshots=ledger_dates(client),
            end=end,
            period=period,
            compare=compare,
            start_month=client.fiscal_year_end_month % 12 + 1,
        )


@pytest.fixture
def books(acme, record):
    """Three month-ends of a calendar-year business: Dec 2025 (a year's income
    in the P&L accounts), Jan 2026 (the new year: income closed into retained
    earnings) and Feb 2026."""
    record(
        acme,
        date(2025, 12, 31),
        {
            CASH: 9000,
            AR: 2000,
            VAN: 12000,
            DEPRECIATION: -1200,
            AP: -1500,
            LOAN: -8000,
            CAPITAL: -5000,
            RETAINED: -2000,
            SALES: -40000,
            COGS: 22000,
            RENT: 12000,
            DEPR_EXPENSE: 1200,
            INTEREST: -500,
        },
    )  # net income for 2025: 40000 + 500 - 22000 - 12000 - 1200 = 5300
    record(
        acme,
        date(2026, 1, 31),
        {
            CASH: 9000,
            AR: 3000,
            VAN: 12000,
            DEPRECIATION: -1300,
            AP: -1700,
            LOAN: -7800,
            CAPITAL: -5000,
            RETAINED: -7300,
            SALES: -4000,
            COGS: 2000,
            RENT: 1000,
            DEPR_EXPENSE: 100,
        },
    )  # January: 4000 - 2000 - 1000 - 100 = 900
    record(
        acme,
        date(2026, 2, 28),
        {
            CASH: 10350,
            AR: 2500,
            VAN: 12000,
            DEPRECIATION: -1400,
            AP: -1200,
            LOAN: -7600,
            CAPITAL: -5000,
            RETAINED: -7300,
            SALES: -9000,
            COGS: 4500,
            RENT: 2000,
            DEPR_EXPENSE: 200,
            INTEREST: -50,
        },
    )  # YTD Feb: 9000 + 50 - 4500 - 2000 - 200 = 2350; February alone 1450
    return acme


def test_a_month_is_the_difference_of_two_year_to_date_snapshots(books):
    pnl = build(books, "profit_and_loss", date(2026, 2, 28), compare="none")

    assert [c.label for c in pnl.columns] == ["Feb 2026"]
    assert figures(pnl, "Sales") == [D("5000.00")]
    assert figures(pnl, "Total income") == [D("5000.00")]
    assert figures(pnl, "Gross profit") == [D("2500.00")]
    assert figures(pnl, "Total expenses") == [D("1100.00")]
    assert figures(pnl, "Net income") == [D("1450.00")]


def test_the_first_month_of_a_fiscal_year_is_its_own_year_to_date(books):
    pnl = build(books, "profit_and_loss", date(2026, 1, 31), compare="none")

    assert figures(pnl, "Net income") == [D("900.00")]


def test_a_period_across_the_year_end_adds_the_earlier_years_total(books):
    spans = [Span(date(2025, 12, 1), date(2026, 2, 28))]

    assert activity_points(spans[0], 1) == [
        (date(2026, 2, 28), 1),
        (date(2025, 12, 31), 1),
        (date(2025, 11, 30), -1),
    ]
    # November 2025 is not in the ledger: the quarter has no data.
    pnl = build(
        books, "profit_and_loss", date(2026, 2, 28), period="quarter", compare="none"
    )
    assert not pnl.has_data
    assert pnl.columns[0].missing == [date(2025, 11, 30)]


def test_the_comparisons_are_the_prior_month_and_the_month_a_year_before(books):
    pnl = build(books, "profit_and_loss", date(2026, 2, 28))

    assert [(c.span.start, c.span.end, c.available) for c in pnl.columns] == [
        (date(2026, 2, 1), date(2026, 2, 28), True),
        (date(2026, 1, 1), date(2026, 1, 31), True),
        (date(2025, 2, 1), date(2025, 2, 28), False),
    ]
    assert figures(pnl, "Net income") == [D("1450.00"), D("900.00"), None]
    # Each row's columns line up with the columns: one amount per column.
    assert all(len(row.amounts) in (0, 3) for row in pnl.rows)


def test_year_to_date_compares_with_the_same_months_a_year_earlier():
    spans = spans_for(date(2026, 8, 31), "ytd", "both", start_month=7)

    assert [(s.start, s.end) for s in spans] == [
        (date(2026, 7, 1), date(2026, 8, 31)),
        (date(2026, 5, 1), date(2026, 6, 30)),
        (date(2025, 7, 1), date(2025, 8, 31)),
    ]


def test_the_balance_sheet_balances_with_the_years_income_in_equity(books):
    sheet = build(books, "balance_sheet", date(2026, 2, 28))

    assert figures(sheet, "Total assets")[:2] == [D("23450.00"), D("22700.00")]
    assert figures(sheet, "Net income (fiscal year to date)")[:2] == [
        D("2350.00"),
        D("900.00"),
    ]
    assert figures(sheet, "Total liabilities and equity")[:2] == [
        D("23450.00"),
        D("22700.00"),
    ]
    assert sheet.checks == [True, True, None]


def test_net_income_flows_to_equity(books):
    pnl = build(
        books, "profit_and_loss", date(2026, 2, 28), period="ytd", compare="none"
    )
    sheet = build(books, "balance_sheet", date(2026, 2, 28), compare="none")

    ytd = figures(pnl, "Net income")[0]
    assert ytd == D("2350.00")
    assert figures(sheet, "Net income (fiscal year to date)") == [ytd]
    equity = figures(sheet, "Total equity")[0]
    assert equity == D("5000") + D("7300") + ytd


def test_the_trial_balance_ties_to_the_snapshots_totals(books):
    tb = build(books, "trial_balance", date(2026, 2, 28), compare="prior_period")

    debit, credit, prior_debit, prior_credit = figures(tb, "Total")
    assert debit == credit == D("31550.00")
    assert prior_debit == prior_credit == D("27100.00")
    assert tb.checks == [True, True]
    assert figures(tb, "Sales") == [D("0.00"), D("9000.00"), D("0.00"), D("4000.00")]


def test_the_cash_flow_explains_the_change_in_cash(books):
    flow = build(books, "cash_flow", date(2026, 2, 28), compare="none")

    assert figures(flow, "Net income") == [D("1450.00")]
    assert figures(flow, "Depreciation and amortization") == [D("100.00")]
    assert figures(flow, "Receivables") == [D("500.00")]  # collected
    assert figures(flow, "Payables") == [D("-500.00")]  # paid down
    assert figures(flow, "Net cash from operating activities") == [D("1550.00")]
    assert figures(flow, "Net cash from investing activities") == [D("0.00")]
    assert figures(flow, "Loan") == [D("-200.00")]
    assert figures(flow, "Net change in cash") == [D("1350.00")]
    assert figures(flow, "Cash at the beginning of the period") == [D("9000.00")]
    assert figures(flow, "Cash at the end of the period") == [D("10350.00")]
    assert flow.checks == [True]


def test_a_cash_flow_across_the_year_end_does_not_count_last_years_income_twice(
    books,
):
    flow = build(books, "cash_flow", date(2026, 1, 31), compare="none")

    # Retained earnings grew by 2025's 5,300, which is not January's cash.
    assert figures(flow, "Retained earnings") == [D("5300.00")]
    assert figures(flow, "closed to equity") == [D("-5300.00")]
    assert figures(flow, "Net income") == [D("900.00")]
    assert flow.checks == [True]
    assert figures(flow, "Net change in cash") == [D("0.00")]


def test_a_period_with_no_snapshot_has_no_data(books):
    pnl = build(books, "profit_and_loss", date(2024, 6, 30))

    assert not pnl.has_data
    assert all(not column.available for column in pnl.columns)


def test_amounts_are_rounded_to_the_cent_once_and_totals_are_the_printed_sums(
    acme, record
):
    # Three expenses of 33.335 each: 33.34 each once rounded half-up, so the
    # ledger holds 100.02, and the totals add the rounded figures, never 100.005.
    record(
        acme,
        date(2026, 1, 31),
        {
            ("6100", "Rent", "Expense"): D("33.335"),
            ("6200", "Power", "Expense"): D("33.335"),
            ("6300", "Water", "Expense"): D("33.335"),
            CASH: D("-100.02"),
        },
    )

    pnl = build(acme, "profit_and_loss", date(2026, 1, 31), compare="none")
    tb = build(acme, "trial_balance", date(2026, 1, 31), compare="none")

    assert figures(pnl, "Rent") == [D("33.34")]
    assert figures(pnl, "Total expenses") == [D("100.02")]
    assert figures(pnl, "Net income") == [D("-100.02")]
    assert figures(tb, "Total") == [D("100.02"), D("100.02")]
    assert tb.checks == [True]
