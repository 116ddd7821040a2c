"""The client's ledger: its chart of accounts and trial-balance snapshots
(docs/reports.md).

A snapshot is the trial balance as at a month's last day, the way accountants
and QuickBooks' TrialBalance report give it: balance-sheet accounts carry their
balance since the books began, income and expense accounts their total for the
fiscal year to date, and retained earnings the net income of the years before.
Statements are computed from the snapshots (reports/statements.py), never stored.

Money is Decimal to the cent. Each line is a debit or a credit, never negative;
a snapshot's stored totals must be equal (CHECK) and must be the sums of its
lines (a deferred constraint trigger, migration 0001): the database refuses an
unbalanced trial balance whoever writes it.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from advisoros.tenancy.models import TenantModel
from clients.models import Client

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | int | str) -> Decimal:
    """`value` rounded half-up to the cent: the ledger's one rounding rule.

    Any finite value has its cents, however large: the default context's 28
    digits made quantize() raise InvalidOperation for a figure of 27 digits or
    more ("1e30" in an uploaded file), where the caller wants a row to say
    "too large" (reports.services.balance_rows_check), not a server error."""
    value = Decimal(value)
    digits = max(28, value.adjusted() + 3)
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=Context(prec=digits))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(day)


def amount_field(**kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class AccountType(models.TextChoices):
    """QuickBooks Online's AccountType values, its own spelling."""

    BANK = "Bank", "Bank"
    ACCOUNTS_RECEIVABLE = "Accounts Receivable", "Accounts receivable"
    OTHER_CURRENT_ASSET = "Other Current Asset", "Other current asset"
    FIXED_ASSET = "Fixed Asset", "Fixed asset"
    OTHER_ASSET = "Other Asset", "Other asset"
    ACCOUNTS_PAYABLE = "Accounts Payable", "Accounts payable"
    CREDIT_CARD = "Credit Card", "Credit card"
    OTHER_CURRENT_LIABILITY = "Other Current Liability", "Other current liability"
    LONG_TERM_LIABILITY = "Long Term Liability", "Long-term liability"
    EQUITY = "Equity", "Equity"
    INCOME = "Income", "Income"
    OTHER_INCOME = "Other Income", "Other income"
    COST_OF_GOODS_SOLD = "Cost of Goods Sold", "Cost of goods sold"
    EXPENSE = "Expense", "Expense"
    OTHER_EXPENSE = "Other Expense", "Other expense"


class Section(models.TextChoices):
    """Where an account's balance lands in the statements, in their order."""

    CURRENT_ASSETS = "current_assets", "Current assets"
    FIXED_ASSETS = "fixed_assets", "Fixed assets"
    OTHER_ASSETS = "other_assets", "Other assets"
    CURRENT_LIABILITIES = "current_liabilities", "Current liabilities"
    LONG_TERM_LIABILITIES = "long_term_liabilities", "Long-term liabilities"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    COST_OF_SALES = "cost_of_sales", "Cost of sales"
    EXPENSES = "expenses", "Expenses"
    OTHER_INCOME = "other_income", "Other income"
    OTHER_EXPENSES = "other_expenses", "Other expenses"


SECTION_OF: dict[str, str] = {
    AccountType.BANK: Section.CURRENT_ASSETS,
    AccountType.ACCOUNTS_RECEIVABLE: Section.CURRENT_ASSETS,
    AccountType.OTHER_CURRENT_ASSET: Section.CURRENT_ASSETS,
    AccountType.FIXED_ASSET: Section.FIXED_ASSETS,
    AccountType.OTHER_ASSET: Section.OTHER_ASSETS,
    AccountType.ACCOUNTS_PAYABLE: Section.CURRENT_LIABILITIES,
    AccountType.CREDIT_CARD: Section.CURRENT_LIABILITIES,
    AccountType.OTHER_CURRENT_LIABILITY: Section.CURRENT_LIABILITIES,
    AccountType.LONG_TERM_LIABILITY: Section.LONG_TERM_LIABILITIES,
    AccountType.EQUITY: Section.EQUITY,
    AccountType.INCOME: Section.INCOME,
    AccountType.OTHER_INCOME: Section.OTHER_INCOME,
    AccountType.COST_OF_GOODS_SOLD: Section.COST_OF_SALES,
    AccountType.EXPENSE: Section.EXPENSES,
    AccountType.OTHER_EXPENSE: Section.OTHER_EXPENSES,
}
BALANCE_SHEET_SECTIONS = (
    Section.CURRENT_ASSETS,
    Section.FIXED_ASSETS,
    Section.OTHER_ASSETS,
    Section.CURRENT_LIABILITIES,
    Section.LONG_TERM_LIABILITIES,
    Section.EQUITY,
)
ASSET_SECTIONS = (Section.CURRENT_ASSETS, Section.FIXED_ASSETS, Section.OTHER_ASSETS)
# Sections whose balance is normally a credit: shown credit-positive.
CREDIT_SECTIONS = (
    Section.CURRENT_LIABILITIES,
    Section.LONG_TERM_LIABILITIES,
    Section.EQUITY,
    Section.INCOME,
    Section.OTHER_INCOME,
)


class LedgerSource(models.TextChoices):
    CSV = "csv", "CSV upload"
    QBO = "qbo", "QuickBooks Online"


class LedgerAccount(TenantModel):
    """One account of a client's chart. Matched by its external id (QuickBooks'
    Account.Id) when it has one, never by name: a rename keeps the link."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(
        "external id",
        max_length=64,
        blank=True,
        help_text="The account's id in the client's books (QuickBooks' Id).",
    )
    number = models.CharField("account number", max_length=40, blank=True)
    # QuickBooks sub-accounts: the fully qualified name ("Utilities:Gas").
    name = models.CharField(max_length=255)
    account_type = models.CharField(
        "account type", max_length=32, choices=AccountType.choices
    )
    account_subtype = models.CharField(
        "account subtype",
        max_length=64,
        blank=True,
        help_text="QuickBooks' AccountSubType (Checking, AccumulatedDepreciation ...).",
    )
    is_active = models.BooleanField(default=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~Q(external_id=""),
                name="ledgeraccount_external_id_per_client",
            ),
            models.UniqueConstraint(
                fields=["client", "number"],
                condition=~Q(number=""),
                name="ledgeraccount_number_per_client",
            ),
            models.UniqueConstraint(
                "client", Lower("name"), name="ledgeraccount_name_per_client"
            ),
            models.CheckConstraint(
                condition=Q(account_type__in=AccountType.values),
                name="ledgeraccount_type_known",
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "client"], name="ledgeraccount_client"
            ),
        ]
        ordering = ["number", "name"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    @property
    def section(self) -> str:
        return SECTION_OF[self.account_type]


class TrialBalance(TenantModel):
    """A client's trial balance as at `period_end` (a month's last day): one per
    client and date; a new one for the same date replaces it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    period_end = models.DateField("as at")
    source = models.CharField(max_length=8, choices=LedgerSource.choices)
    # What the source gave, as it gave it: the CSV's rows (a list of dicts) or
    # QuickBooks' TrialBalance report JSON.
    raw = models.JSONField(default=list, blank=True)
    total_debit = amount_field()
    total_credit = amount_field()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client", "period_end"], name="trialbalance_one_per_date"
            ),
            models.CheckConstraint(
                condition=Q(total_debit=F("total_credit")),
                name="trialbalance_balances",
            ),
            models.CheckConstraint(
                condition=Q(source__in=LedgerSource.values),
                name="trialbalance_source_known",
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "client", "period_end"],
                name="trialbalance_client_date",
            ),
        ]
        ordering = ["-period_end"]

    def __str__(self) -> str:
        return f"Trial balance at {self.period_end:%Y-%m-%d}"


class TrialBalanceLine(TenantModel):
    trial_balance = models.ForeignKey(
        TrialBalance, on_delete=models.CASCADE, related_name="lines"
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="+"
    )
    debit = amount_field()
    credit = amount_field()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["trial_balance", "account"], name="trialbalanceline_one_each"
            ),
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0),
                name="trialbalanceline_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(debit=0) | Q(credit=0),
                name="trialbalanceline_one_side",
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            # The statements' read: every line of a few snapshots, by account.
            models.Index(
                fields=["trial_balance", "account"],
                include=["debit", "credit"],
                name="trialbalanceline_covering",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.debit} / {self.credit}"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    IMPORTED = "imported", "Imported"


class TrialBalanceImport(TenantModel):
    """An uploaded CSV trial balance between its preview and its all-or-nothing
    import."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    period_end = models.DateField("as at")
    filename = models.CharField(max_length=255)
    content = models.TextField()
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    total_debit = amount_field()
    total_credit = amount_field()
    trial_balance = models.ForeignKey(
        TrialBalance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "client", "created_at"],
                name="tbimport_client_created",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename}"


# Presentation and outputs ---------------------------------------------------------
# A template says how a client's statements are laid out (which statements, in
# what order, account groups, numbers, zero rows, the firm's branding); an
# output is one PDF or XLSX file of them, built by a job; a schedule builds
# them after each month-end and may share the PDF to the client's portal.
# Figures are never stored: an output's file is drawn from the ledger when built.


class StatementKind(models.TextChoices):
    PROFIT_AND_LOSS = "profit_and_loss", "Profit and loss"
    BALANCE_SHEET = "balance_sheet", "Balance sheet"
    CASH_FLOW = "cash_flow", "Cash flow"
    TRIAL_BALANCE = "trial_balance", "Trial balance"


# What a template holds when nobody chose: the three financial statements.
DEFAULT_STATEMENTS = [
    StatementKind.PROFIT_AND_LOSS.value,
    StatementKind.BALANCE_SHEET.value,
    StatementKind.CASH_FLOW.value,
]


class StatementTemplate(TenantModel):
    """How a client's statements are laid out, or (no client) the firm's default
    for clients without their own. Account groups show several of the client's
    accounts as one named line; they never change a total."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=120, default="Financial statements")
    # Statement kinds, in the order a package (PDF, workbook) shows them.
    statements = models.JSONField(default=list, blank=True)
    # {"<LedgerAccount id>": "<group name>"}: accounts shown as one line.
    groups = models.JSONField(default=dict, blank=True)
    show_account_numbers = models.BooleanField("show account numbers", default=True)
    show_zero_rows = models.BooleanField(
        "show accounts with no figures",
        default=False,
        help_text="Off: an account with nothing in any column is left out.",
    )
    branded = models.BooleanField(
        "use the firm's branding",
        default=True,
        help_text="The firm's logo and colour on the PDF; its name is always there.",
    )
    footer = models.CharField(
        max_length=300,
        blank=True,
        help_text="Printed under each statement (a compilation note, for example).",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(client__isnull=False),
                name="statementtemplate_one_per_client",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(client__isnull=True),
                name="statementtemplate_one_firm_default",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kinds(self) -> list[str]:
        """The statements it holds, known kinds only, in order (the default when
        none)."""
        known = [k for k in self.statements if k in StatementKind.values]
        return known or list(DEFAULT_STATEMENTS)


class OutputFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"


class OutputStatus(models.TextChoices):
    PENDING = "pending", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


PACKAGE = "package"
OUTPUT_KINDS = [*StatementKind.choices, (PACKAGE, "Statement package")]


class StatementOutput(TenantModel):
    """One PDF or XLSX file of a client's statement (or of its template's
    package), as the ledger stood when a job built it. One pending build per
    set of parameters: a second click finds the first."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=OUTPUT_KINDS)
    period_end = models.DateField("period ending")
    period = models.CharField(max_length=10, default="month")
    compare = models.CharField(max_length=16, default="both")
    template = models.ForeignKey(
        StatementTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    format = models.CharField(max_length=4, choices=OutputFormat.choices)
    status = models.CharField(
        max_length=8, choices=OutputStatus.choices, default=OutputStatus.PENDING
    )
    # private/<firm id>/statements/<uuid>.<format>: never served directly.
    file = models.FileField(max_length=300, blank=True, editable=False)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    schedule = models.ForeignKey(
        "StatementSchedule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The document the PDF was shared to the portal as (scheduled outputs): the
    # latest version of it, once a rebuild has shared a new one.
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A scheduled file whose figures a replaced trial balance changed: its
    # schedule builds it again at its next run (reports.outputs).
    stale = models.BooleanField(default=False, db_default=False)
    rebuilt_at = models.DateTimeField("rebuilt", null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "period_end", "period", "compare", "format"],
                condition=Q(status="pending"),
                name="statementoutput_one_pending",
            ),
            # A schedule builds a period once.
            models.UniqueConstraint(
                fields=["schedule", "period_end", "format"],
                condition=Q(schedule__isnull=False),
                name="statementoutput_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutputStatus.values),
                name="statementoutput_status_known",
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "client", "created_at"],
                name="statementoutput_client",
            ),
            # The hourly run's look for files to build again: a few rows.
            models.Index(
                fields=["organization", "schedule"],
                condition=Q(stale=True),
                name="statementoutput_stale",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.period_end} ({self.format})"

    @property
    def filename(self) -> str:
        title = dict(OUTPUT_KINDS).get(self.kind, "Statement")
        return f"{title} {self.period_end:%Y-%m}.{self.format}"


class ScheduleFrequency(models.TextChoices):
    MONTHLY = "monthly", "Every month"
    QUARTERLY = "quarterly", "Every fiscal quarter"


class StatementSchedule(TenantModel):
    """Build a client's statement package after each month-end (or fiscal
    quarter-end) once that month's trial balance is in the ledger, and share
    its PDF to the client's portal when asked. Periods from `first_period_end`
    on; each one once."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(
        max_length=10,
        choices=ScheduleFrequency.choices,
        default=ScheduleFrequency.MONTHLY,
    )
    share_to_portal = models.BooleanField(
        "share the PDF to the client's portal", default=True
    )
    is_active = models.BooleanField("active", default=True)
    first_period_end = models.DateField(
        "first period ending",
        help_text="The first month-end it builds; earlier months are left alone.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client"], name="statementschedule_one_per_client"
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "is_active"], name="statementschedule_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} statements"
