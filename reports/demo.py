"""The demo ledgers for "Demo CPA" (registered with seed_demo, after billing's).

One business client gets 24 monthly trial balances, ending with the last
month-end before the firm's today, imported through the CSV path (upload,
check, all-or-nothing import) as a firm would: so the statements show real
figures and the import pages have history. A second business client, a
professional services firm, gets 30 months written through the ledger's
services the way a QuickBooks pull does (the chart by Id, then each month's
TrialBalance report as raw JSON): `ProfessionalServicesBooks`. The first
client's profit and loss for the last month has its PDF and XLSX built (in
the seeder, synchronously), linked from the statement's page.

The books are a small trade business written month by month as journal
entries (`SmallBusinessBooks`): sales on account and in cash, collections,
purchases of stock and their cost of sales, payroll and its taxes, rent,
utilities, insurance prepaid yearly, a loan paid down monthly with interest,
a van bought in the second year and depreciated, owner's draws. At each
month-end the trial balance is taken the way accountants give it: the
balance-sheet accounts as they stand, the income and expense accounts for
the fiscal year to date, and at each fiscal year's start the year's net
income closed into retained earnings.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Organization
from clients.models import Client, ClientStatus, EntityType
from reports.csv_import import trial_balance_import_apply, trial_balance_import_create
from reports.models import (
    CENT,
    ZERO,
    OutputFormat,
    StatementOutput,
    TrialBalance,
)
from reports.outputs import statement_output_build
from reports.services import (
    AccountData,
    BalanceRow,
    ledger_accounts_save,
    trial_balance_record,
)
from reports.statements import add_months, fiscal_year_start, template_for

DEMO_SLUG = "demo"  # clients.demo.DEMO_SLUG, the demo firm
MONTHS = 24

# number, name, type, subtype
CHART = [
    ("1000", "Operating account", "Bank", "Checking"),
    ("1010", "Savings", "Bank", "Savings"),
    ("1200", "Accounts receivable", "Accounts Receivable", "AccountsReceivable"),
    ("1300", "Inventory", "Other Current Asset", "Inventory"),
    ("1400", "Prepaid insurance", "Other Current Asset", "PrepaidExpenses"),
    ("1500", "Vehicles", "Fixed Asset", "Vehicles"),
    ("1510", "Equipment", "Fixed Asset", "MachineryAndEquipment"),
    ("1590", "Accumulated depreciation", "Fixed Asset", "AccumulatedDepreciation"),
    ("1800", "Security deposits", "Other Asset", "SecurityDeposits"),
    ("2000", "Accounts payable", "Accounts Payable", "AccountsPayable"),
    ("2100", "Business credit card", "Credit Card", "CreditCard"),
    ("2200", "Payroll liabilities", "Other Current Liability", "PayrollTaxPayable"),
    ("2300", "Sales tax payable", "Other Current Liability", "SalesTaxPayable"),
    ("2700", "Bank loan", "Long Term Liability", "NotesPayable"),
    ("3000", "Owner's capital", "Equity", "OwnersEquity"),
    ("3100", "Owner's draws", "Equity", "PartnerDistributions"),
    ("3900", "Retained earnings", "Equity", "RetainedEarnings"),
    ("4000", "Sales", "Income", "SalesOfProductIncome"),
    ("4100", "Installation services", "Income", "ServiceFeeIncome"),
    ("5000", "Cost of goods sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("6000", "Wages", "Expense", "PayrollExpenses"),
    ("6010", "Payroll taxes", "Expense", "PayrollExpenses"),
    ("6100", "Rent", "Expense", "RentOrLeaseOfBuildings"),
    ("6200", "Utilities", "Expense", "Utilities"),
    ("6300", "Insurance", "Expense", "Insurance"),
    ("6400", "Advertising", "Expense", "AdvertisingPromotional"),
    ("6500", "Vehicle expenses", "Expense", "Auto"),
    ("6600", "Office supplies", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("6700", "Depreciation", "Expense", "OtherMiscellaneousServiceCost"),
    ("6800", "Bank fees", "Expense", "BankCharges"),
    ("7000", "Interest income", "Other Income", "InterestEarned"),
    ("8000", "Interest expense", "Other Expense", "OtherMiscellaneousExpense"),
]
PNL_TYPES = {"Income", "Other Income", "Cost of Goods Sold", "Expense", "Other Expense"}


def _d(value: float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass
class SmallBusinessBooks:
    """Double-entry books of the demo business, debit positive."""

    start_month: int  # the fiscal year's first month
    seed: int = 14
    balances: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 (demo figures)
        self.balances = {number: ZERO for number, *_ in CHART}
        # Opening position: owner's capital, a loan, stock and a deposit.
        self.post(
            ("1000", 60000),
            ("1300", 18000),
            ("1800", 4000),
            ("1510", 22000),
            ("3000", -54000),
            ("2700", -50000),
        )

    def post(self, *lines: tuple[str, float | Decimal]) -> None:
        amounts = [(number, _d(value)) for number, value in lines]
        assert sum(v for _, v in amounts) == 0, amounts  # noqa: S101 (a bug here)
        for number, value in amounts:
            self.balances[number] += value

    def month(self, index: int, day: date) -> None:
        """One month of business (index from 0)."""
        rng = self.rng
        season = 1 + 0.25 * ((day.month in (4, 5, 6, 10, 11)) - (day.month in (1, 2)))
        growth = 1 + index * 0.012
        sales = round(38000 * season * growth * rng.uniform(0.9, 1.1), 2)
        services = round(6500 * growth * rng.uniform(0.8, 1.2), 2)
        on_account = round(sales * 0.6, 2)
        tax = round((sales + services) * 0.07, 2)
        self.post(
            ("1200", on_account),
            ("1000", round(sales - on_account + services + tax, 2)),
            ("4000", -sales),
            ("4100", -services),
            ("2300", -tax),
        )
        receivable = self.balances["1200"]
        self.post(
            ("1000", receivable * Decimal("0.62")),
            ("1200", -receivable * Decimal("0.62")),
        )
        self.post(("2300", tax), ("1000", -tax))  # sales tax remitted
        cost = round(sales * rng.uniform(0.52, 0.56), 2)
        self.post(("5000", cost), ("1300", -cost))
        stock = round(cost * rng.uniform(0.95, 1.08), 2)
        self.post(("1300", stock), ("2000", -stock))
        payable = self.balances["2000"]
        self.post(
            ("2000", -payable * Decimal("0.7")), ("1000", payable * Decimal("0.7"))
        )
        wages = round(11500 * growth, 2)
        payroll_tax = round(wages * 0.0765, 2)
        self.post(
            ("6000", wages),
            ("6010", payroll_tax),
            ("1000", -wages),
            ("2200", -payroll_tax),
        )
        self.post(
            ("2200", -self.balances["2200"] * Decimal("0.5")),
            ("1000", self.balances["2200"] * Decimal("0.5")),
        )
        self.post(("6100", 3200), ("1000", -3200))
        utilities = round(rng.uniform(450, 780), 2)
        self.post(("6200", utilities), ("1000", -utilities))
        if day.month == self.start_month:  # the yearly policy, prepaid
            self.post(("1400", 4800), ("1000", -4800))
        self.post(("6300", 400), ("1400", -400))
        card = round(rng.uniform(900, 1600), 2)
        self.post(
            ("6400", round(card * 0.6, 2)),
            ("6600", round(card * 0.4, 2)),
            ("2100", -round(card * 0.6, 2) - round(card * 0.4, 2)),
        )
        self.post(("2100", -self.balances["2100"]), ("1000", self.balances["2100"]))
        fuel = round(rng.uniform(300, 520), 2)
        self.post(("6500", fuel), ("1000", -fuel))
        self.post(("6800", 45), ("1000", -45))
        interest = round(-self.balances["2700"] * Decimal("0.065") / 12, 2)
        self.post(("8000", interest), ("2700", 1100), ("1000", -1100 - interest))
        earned = round(self.balances["1010"] * Decimal("0.03") / 12, 2)
        self.post(("1010", earned), ("7000", -earned))
        if index == 13:  # a van, part cash, part loan
            self.post(("1500", 36000), ("1000", -12000), ("2700", -24000))
        depreciation = round(22000 / 60 + (36000 / 60 if index >= 13 else 0), 2)
        self.post(("6700", depreciation), ("1590", -depreciation))
        if index % 3 == 2:
            self.post(("3100", 6000), ("1000", -6000))
        if self.balances["1000"] > 60000:
            self.post(("1010", 15000), ("1000", -15000))

    def year_end_close(self) -> None:
        """Close the year's income and expenses into retained earnings."""
        numbers = [number for number, _, kind, _ in CHART if kind in PNL_TYPES]
        total = sum((self.balances[n] for n in numbers), ZERO)
        for number in numbers:
            self.balances[number] = ZERO
        self.balances["3900"] += total
        # Draws close into capital.
        self.balances["3000"] += self.balances["3100"]
        self.balances["3100"] = ZERO

    def trial_balance_rows(self) -> list[tuple[str, str, str, str, Decimal, Decimal]]:
        return [
            (
                number,
                name,
                kind,
                subtype,
                max(self.balances[number], ZERO),
                max(-self.balances[number], ZERO),
            )
            for number, name, kind, subtype in CHART
        ]


def demo_trial_balances(
    *, last: date, months: int = MONTHS, start_month: int = 1, seed: int = 14
) -> Iterator[tuple[date, list[tuple]]]:
    """`months` month-end trial balances ending at `last` (a month-end)."""
    books = SmallBusinessBooks(start_month=start_month, seed=seed)
    first = add_months(last, -(months - 1))
    for index in range(months):
        day = add_months(first, index)
        if index and day.month == start_month:
            books.year_end_close()
        books.month(index, day)
        yield day, books.trial_balance_rows()


def trial_balance_csv(rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "account_number",
            "account_name",
            "account_type",
            "account_subtype",
            "debit",
            "credit",
        ]
    )
    for number, name, kind, subtype, debit, credit in rows:
        writer.writerow([number, name, kind, subtype, debit or "", credit or ""])
    return out.getvalue()


def _demo_client(organization: Organization) -> Client | None:
    """The first active business client by code."""
    return (
        Client.objects.filter(organization=organization, status=ClientStatus.ACTIVE)
        .exclude(entity_type=EntityType.INDIVIDUAL)
        .order_by("client_code")
        .first()
    )


@register_demo_seeder
def seed_demo_ledger(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    """Runs inside the firm's context; does nothing when the firm has a ledger."""
    if organization.slug != DEMO_SLUG:
        return
    if TrialBalance.objects.filter(organization=organization).exists():
        return
    client = _demo_client(organization)
    if client is None:
        return
    user = next(iter(people.values()), None)
    last = add_months(firm_today(organization), -1)
    start_month = client.fiscal_year_end_month % 12 + 1
    with transaction.atomic():
        for day, rows in demo_trial_balances(last=last, start_month=start_month):
            upload = trial_balance_import_create(
                client=client,
                user=user,
                period_end=day,
                filename=f"trial-balance-{day:%Y-%m}.csv",
                text=trial_balance_csv(rows),
            )
            result = trial_balance_import_apply(trial_balance_import=upload, user=user)
            if result != "imported":
                raise RuntimeError(
                    f"Demo trial balance {day} did not import: {upload.errors}"
                )
    if stdout is not None:
        first = fiscal_year_start(last, start_month)
        stdout.write(
            f"  Demo ledger: {MONTHS} monthly trial balances for {client} "
            f"(fiscal year from {first:%B})"
        )
    second = _second_client(organization, client)
    if second is not None:
        _seed_services_ledger(second, last)
        if stdout is not None:
            stdout.write(
                f"  Demo ledger: {SERVICES_MONTHS} monthly trial balances for "
                f"{second} (as a QuickBooks pull writes them)"
            )
    built = _seed_outputs(client, last, user)
    if stdout is not None:
        stdout.write(f"  Demo statement files: {built} for {client}'s profit and loss")


# The second client: a professional services firm, as QuickBooks gives it ----------

SERVICES_MONTHS = 30
# Id, number, name, type, subtype (QuickBooks' spelling)
SERVICES_CHART = [
    ("35", "1000", "Operating account", "Bank", "Checking"),
    ("36", "1100", "Accounts receivable", "Accounts Receivable", "AccountsReceivable"),
    (
        "37",
        "1150",
        "Unbilled work in progress",
        "Other Current Asset",
        "OtherCurrentAssets",
    ),
    ("38", "1400", "Prepaid software", "Other Current Asset", "PrepaidExpenses"),
    ("39", "1600", "Computers", "Fixed Asset", "MachineryAndEquipment"),
    ("40", "1650", "Furniture", "Fixed Asset", "FurnitureAndFixtures"),
    (
        "41",
        "1690",
        "Accumulated depreciation",
        "Fixed Asset",
        "AccumulatedDepreciation",
    ),
    ("42", "2000", "Accounts payable", "Accounts Payable", "AccountsPayable"),
    ("43", "2100", "Company card", "Credit Card", "CreditCard"),
    ("44", "2200", "Accrued salaries", "Other Current Liability", "AccruedLiabilities"),
    (
        "45",
        "2300",
        "Client retainers",
        "Other Current Liability",
        "OtherCurrentLiabilities",
    ),
    ("46", "2600", "Line of credit", "Long Term Liability", "NotesPayable"),
    ("47", "3000", "Partners' capital", "Equity", "PartnersEquity"),
    ("48", "3100", "Partner distributions", "Equity", "PartnerDistributions"),
    ("49", "3900", "Retained earnings", "Equity", "RetainedEarnings"),
    ("50", "4000", "Consulting fees", "Income", "ServiceFeeIncome"),
    ("51", "4100", "Reimbursed expenses", "Income", "OtherPrimaryIncome"),
    ("52", "5000", "Subcontractors", "Cost of Goods Sold", "CostOfLaborCos"),
    ("53", "6000", "Salaries", "Expense", "PayrollExpenses"),
    ("54", "6010", "Payroll taxes and benefits", "Expense", "PayrollExpenses"),
    ("55", "6100", "Office rent", "Expense", "RentOrLeaseOfBuildings"),
    (
        "56",
        "6200",
        "Software subscriptions",
        "Expense",
        "OfficeGeneralAdministrativeExpenses",
    ),
    ("57", "6300", "Professional insurance", "Expense", "Insurance"),
    ("58", "6400", "Travel", "Expense", "Travel"),
    ("59", "6500", "Marketing", "Expense", "AdvertisingPromotional"),
    ("60", "6700", "Depreciation", "Expense", "OtherMiscellaneousServiceCost"),
    ("61", "8000", "Interest expense", "Other Expense", "OtherMiscellaneousExpense"),
]


class ProfessionalServicesBooks(SmallBusinessBooks):
    """A consulting firm's books: fees billed monthly and collected in about
    45 days, work in progress, retainers, subcontractors, salaries accrued and
    paid, software prepaid yearly, computers bought and depreciated, a line of
    credit drawn and repaid, partner distributions each quarter."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 (demo figures)
        self.balances = {number: ZERO for _, number, *_ in SERVICES_CHART}
        self.post(
            ("1000", 85000),
            ("1600", 18000),
            ("1650", 9000),
            ("3000", -92000),
            ("2600", -20000),
        )

    def month(self, index: int, day: date) -> None:
        rng = self.rng
        growth = 1 + index * 0.015
        fees = round(72000 * growth * rng.uniform(0.88, 1.12), 2)
        reimbursed = round(rng.uniform(1500, 4200), 2)
        self.post(("1100", fees + reimbursed), ("4000", -fees), ("4100", -reimbursed))
        wip = _d(round(fees * rng.uniform(0.08, 0.14), 2)) - self.balances["1150"]
        self.post(("1150", wip), ("4000", -wip))
        receivable = self.balances["1100"]
        self.post(
            ("1000", receivable * Decimal("0.55")),
            ("1100", -receivable * Decimal("0.55")),
        )
        retainer = round(rng.uniform(-3000, 4000), 2)
        self.post(("1000", retainer), ("2300", -retainer))
        subcontract = round(fees * rng.uniform(0.10, 0.16), 2)
        self.post(("5000", subcontract), ("2000", -subcontract))
        self.post(("2000", -self.balances["2000"]), ("1000", self.balances["2000"]))
        salaries = round(38000 * growth, 2)
        benefits = round(salaries * 0.21, 2)
        self.post(
            ("6000", salaries), ("6010", benefits), ("2200", -salaries - benefits)
        )
        paid = self.balances["2200"] * Decimal("0.8")
        self.post(("2200", -paid), ("1000", paid))
        self.post(("6100", 6800), ("1000", -6800))
        if day.month == self.start_month:
            self.post(("1400", 14400), ("1000", -14400))
        self.post(("6200", 1200), ("1400", -1200))
        self.post(("6300", 950), ("1000", -950))
        card = round(rng.uniform(1800, 3600), 2)
        self.post(
            ("6400", round(card * 0.55, 2)),
            ("6500", round(card * 0.45, 2)),
            ("2100", -round(card * 0.55, 2) - round(card * 0.45, 2)),
        )
        self.post(("2100", -self.balances["2100"]), ("1000", self.balances["2100"]))
        if index in (6, 18):  # new computers for the team
            self.post(("1600", 12000), ("1000", -12000))
        depreciation = round((self.balances["1600"] + self.balances["1650"]) / 48, 2)
        self.post(("6700", depreciation), ("1690", -depreciation))
        interest = round(-self.balances["2600"] * Decimal("0.08") / 12, 2)
        self.post(("8000", interest), ("1000", -interest))
        if self.balances["1000"] > 90000 and self.balances["2600"] < 0:
            repay = min(-self.balances["2600"], Decimal(5000))
            self.post(("2600", repay), ("1000", -repay))
        if index % 3 == 2:
            self.post(("3100", 15000), ("1000", -15000))

    def year_end_close(self) -> None:
        numbers = [n for _, n, _, kind, _ in SERVICES_CHART if kind in PNL_TYPES]
        total = sum((self.balances[n] for n in numbers), ZERO)
        for number in numbers:
            self.balances[number] = ZERO
        self.balances["3900"] += total
        self.balances["3000"] += self.balances["3100"]
        self.balances["3100"] = ZERO


def _second_client(organization: Organization, first: Client) -> Client | None:
    """The next active business client by code after the first."""
    return (
        Client.objects.filter(organization=organization, status=ClientStatus.ACTIVE)
        .exclude(entity_type=EntityType.INDIVIDUAL)
        .exclude(pk=first.pk)
        .order_by("client_code")
        .first()
    )


def _report_json(day: date, rows: list[tuple[AccountData, Decimal, Decimal]]) -> dict:
    """What QuickBooks' TrialBalance report answers (abridged): Data rows with
    the account's name and Id, debit and credit as strings (empty for none)."""
    return {
        "Header": {"ReportName": "TrialBalance", "EndPeriod": day.isoformat()},
        "Rows": {
            "Row": [
                {
                    "type": "Data",
                    "ColData": [
                        {"value": account.name, "id": account.external_id},
                        {"value": f"{debit:.2f}" if debit else ""},
                        {"value": f"{credit:.2f}" if credit else ""},
                    ],
                }
                for account, debit, credit in rows
            ]
        },
    }


def _seed_services_ledger(client: Client, last: date) -> None:
    if TrialBalance.objects.filter(client=client).exists():
        return
    accounts = [
        AccountData(name, kind, number=number, subtype=subtype, external_id=qbo_id)
        for qbo_id, number, name, kind, subtype in SERVICES_CHART
    ]
    start_month = client.fiscal_year_end_month % 12 + 1
    books = ProfessionalServicesBooks(start_month=start_month, seed=41)
    first = add_months(last, -(SERVICES_MONTHS - 1))
    with transaction.atomic():
        ledger_accounts_save(client=client, accounts=accounts)  # QuickBooks' chart
        for index in range(SERVICES_MONTHS):
            day = add_months(first, index)
            if index and day.month == start_month:
                books.year_end_close()
            books.month(index, day)
            rows = [
                (
                    account,
                    max(books.balances[account.number], ZERO),
                    max(-books.balances[account.number], ZERO),
                )
                for account in accounts
                if books.balances[account.number]
            ]
            trial_balance_record(
                client=client,
                period_end=day,
                rows=[BalanceRow(a, debit=dr, credit=cr) for a, dr, cr in rows],
                source="qbo",
                raw=_report_json(day, rows),
            )


def _seed_outputs(client: Client, last: date, user: User | None) -> int:
    """The last month's profit and loss as a PDF and a workbook, built now."""
    if StatementOutput.objects.filter(client=client).exists():
        return 0
    template = template_for(client)
    for fmt in (OutputFormat.PDF, OutputFormat.XLSX):
        output = StatementOutput.objects.create(
            organization_id=client.organization_id,
            client=client,
            kind="profit_and_loss",
            period_end=last,
            period="month",
            compare="both",
            template=template,
            format=fmt,
            created_by=user,
        )
        statement_output_build(output=output)
    return 2
