"""Billing: time, invoices and payments (docs/billing.md).

Money is Decimal, two places, in the firm's currency (`BillingSettings.currency`).
Rounding rule: each line's amount is quantity x unit price rounded half-up to
the cent; the discount and the tax are computed once on the invoice's totals
and rounded half-up to the cent (never per line), so a total is always the sum
of the printed figures.

An invoice is a draft until it is issued: only then does it get its number,
from the firm's counter row (`BillingSettings.next_invoice_number`), locked in
the issuing transaction, so a rolled-back issue gives its number back and two
concurrent issues queue on the lock: no gap, no duplicate. An issued invoice is
never edited; it is voided, or a credit note reduces what is owed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import ScopedManager

from advisoros.tenancy.models import Membership, Organization, TenantModel
from clients.models import Client, Engagement
from workflows.models import Task

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """`value` rounded half-up to the cent: the one rounding rule of billing."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def rate_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


class TimeRounding(models.TextChoices):
    UP = "up", "Round up to the next increment"
    NEAREST = "nearest", "Round to the nearest increment"
    NONE = "none", "No rounding (exact minutes)"


class BillingSettings(TenantModel):
    """The firm's billing rules: one row per firm, made on first use
    (`billing.selectors.billing_settings`). Also the invoice number counter."""

    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text="ISO 4217 code; every invoice of the firm is in this currency.",
    )
    time_increment_minutes = models.PositiveSmallIntegerField(
        "time increment (minutes)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Recorded time is rounded to this many minutes (6 = tenths of "
        "an hour).",
    )
    time_rounding = models.CharField(
        max_length=8, choices=TimeRounding.choices, default=TimeRounding.UP
    )
    default_billing_rate = rate_field(default=Decimal("150.00"))
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)",
        default=30,
        validators=[MaxValueValidator(365)],
    )
    tax_rate = models.DecimalField(
        "tax rate (%)",
        max_digits=6,
        decimal_places=3,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
        help_text="Applied to the taxable lines of new invoices.",
    )
    reminder_days = models.CharField(
        "reminders (days after due)",
        max_length=60,
        default="3,14,30",
        blank=True,
        help_text="Comma-separated days after the due date on which an unpaid "
        "invoice is reminded by email; empty sends none.",
    )
    late_fee_percent = models.DecimalField(
        "late fee (%)",
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("25"))],
        help_text="Charged once on the balance of an invoice unpaid this many days "
        "after its due date; 0 charges none.",
    )
    late_fee_after_days = models.PositiveSmallIntegerField(
        "late fee after (days)", default=30, validators=[MaxValueValidator(365)]
    )
    invoice_footer = models.TextField(
        blank=True, help_text="Printed at the foot of every invoice (payment details)."
    )
    # The counters. Only `invoice_issue` and `credit_note_issue` move them, under
    # SELECT ... FOR UPDATE of this row.
    next_invoice_number = models.PositiveIntegerField(default=1, editable=False)
    next_credit_note_number = models.PositiveIntegerField(default=1, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name_plural = "billing settings"
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], name="billingsettings_one_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"Billing settings of {self.organization_id}"

    def reminder_offsets(self) -> list[int]:
        return sorted(
            {int(p) for p in self.reminder_days.replace(" ", "").split(",") if p}
        )


class MemberRate(TenantModel):
    """A member's standard billing rate and cost rate (per hour)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="rate"
    )
    billing_rate = rate_field(default=ZERO)
    cost_rate = rate_field(default=ZERO)

    class Meta(TenantModel.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.billing_rate}/{self.cost_rate}"


class EngagementRate(TenantModel):
    """An engagement's billing rate for one member (or for everyone: no member)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="billing_rates"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    billing_rate = rate_field()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "membership"],
                name="engagementrate_unique_member",
                nulls_distinct=False,
            ),
        ]


class TimeEntry(TenantModel):
    """Time a person spent for a client. `minutes` is rounded by the firm's rule;
    `rate` and `cost_rate` are the rates when it was recorded. Billed once an
    invoice line holds it (`invoice_line`); an issued invoice's entries are
    never edited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="time_entries"
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="time_entries",
    )
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    date = models.DateField()
    minutes = models.PositiveIntegerField(validators=[MaxValueValidator(24 * 60)])
    recorded_minutes = models.PositiveIntegerField(
        default=0, help_text="Before rounding."
    )
    description = models.CharField(max_length=500, blank=True)
    billable = models.BooleanField(default=True)
    rate = rate_field("billing rate", default=ZERO)
    cost_rate = rate_field(default=ZERO)
    invoice_line = models.ForeignKey(
        "InvoiceLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
    )

    class Meta(TenantModel.Meta):
        verbose_name_plural = "time entries"
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "user", "date"], name="timeentry_org_user_date"
            ),
            # Unbilled billable time by client and date. It carries what work in
            # progress adds up (billing.reports), so that report reads the index
            # alone: an index-only scan, no visit to the table's rows.
            models.Index(
                fields=["organization", "client", "date"],
                name="timeentry_unbilled",
                condition=Q(billable=True, invoice_line__isnull=True),
                include=["engagement", "minutes", "rate"],
            ),
            models.Index(
                fields=["organization", "engagement"], name="timeentry_org_engagement"
            ),
            models.Index(fields=["organization", "task"], name="timeentry_org_task"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=0) & Q(minutes__lte=24 * 60),
                name="timeentry_minutes_in_a_day",
            ),
        ]
        ordering = ["-date", "-created_at"]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.date}"

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def value(self) -> Decimal:
        """At its recorded billing rate (standard value, for WIP and realization)."""
        return money(Decimal(self.minutes) * self.rate / 60)

    @property
    def is_billed(self) -> bool:
        return self.invoice_line_id is not None


class Timer(TenantModel):
    """A running timer: one per person per firm. Stopping it records a TimeEntry."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500, blank=True)
    billable = models.BooleanField(default=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="timer_one_per_person"
            ),
        ]


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    VIEWED = "viewed", "Viewed"
    PARTIAL = "partial", "Partially paid"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    VOID = "void", "Void"


# Issued and still owed: what AR ageing, reminders and the portal's "to pay" read.
OPEN_INVOICE_STATUSES = (
    InvoiceStatus.SENT,
    InvoiceStatus.VIEWED,
    InvoiceStatus.PARTIAL,
    InvoiceStatus.OVERDUE,
)


class RecurringCadence(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"


class RecurringInvoice(TenantModel):
    """An invoice made again every period from an engagement (monthly bookkeeping,
    a retainer): its lines are `RecurringInvoiceLine` rows."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="recurring_invoices",
    )
    cadence = models.CharField(
        max_length=10,
        choices=RecurringCadence.choices,
        default=RecurringCadence.MONTHLY,
    )
    next_date = models.DateField(help_text="The next invoice's date.")
    end_date = models.DateField(null=True, blank=True)
    issue_automatically = models.BooleanField(
        default=True,
        help_text="Issue and email each invoice; otherwise leave it as a draft.",
    )
    include_unbilled_time = models.BooleanField(
        default=False, help_text="Add the engagement's unbilled time too."
    )
    is_active = models.BooleanField(default=True)
    memo = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "is_active", "next_date"],
                name="recurring_org_next",
            ),
        ]


class RecurringInvoiceLine(TenantModel):
    recurring = models.ForeignKey(
        RecurringInvoice, on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(ZERO)],
    )
    unit_price = money_field(validators=[MinValueValidator(ZERO)])
    taxable = models.BooleanField(default=True)

    class Meta(TenantModel.Meta):
        ordering = ["position", "pk"]
        # The inherited index name would pass the 30 characters Django allows.
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="recurline_org_created"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(unit_price__gte=0),
                name="recurringline_not_negative",
            ),
        ]


class Invoice(TenantModel):
    kind = models.CharField(
        max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices"
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    # Set when issued (never at draft): per firm and kind, consecutive.
    number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    currency = models.CharField(max_length=3, default="USD")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    memo = models.TextField(blank=True, help_text="Shown to the client on the invoice.")
    discount_percent = models.DecimalField(
        "discount (%)",
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    tax_rate = models.DecimalField(
        "tax rate (%)",
        max_digits=6,
        decimal_places=3,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    # Totals, recomputed from the lines by `invoice_recompute` (drafts only).
    subtotal = money_field()
    discount_amount = money_field()
    tax_amount = money_field()
    total = money_field()
    # Moved by payments, refunds and credit notes (billing.services.payments).
    amount_paid = money_field()
    amount_credited = money_field()
    # For a credit note: the invoice it reduces.
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    recurring = models.ForeignKey(
        RecurringInvoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the invoice's email last went out, and to whom (billing.services.delivery).
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.CharField(max_length=500, blank=True, editable=False)
    viewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    void_reason = models.CharField(max_length=300, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0, editable=False)
    last_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    late_fee_invoice = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    pdf = models.FileField(max_length=300, blank=True, editable=False)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "kind", "-number"], name="invoice_org_number"
            ),
            models.Index(
                fields=["organization", "status", "due_date"],
                name="invoice_org_status_due",
            ),
            models.Index(
                fields=["organization", "client", "-created_at"],
                name="invoice_org_client",
            ),
            models.Index(fields=["organization", "engagement"], name="invoice_org_eng"),
            # The invoice list (billing.invoice_selectors): a status's page in
            # creation order, an issue-date range in issue order, and the open
            # invoices by due date, carrying what the outstanding totals add up
            # (read from the index alone).
            models.Index(
                fields=["organization", "status", "created_at", "id"],
                name="invoice_org_status_new",
            ),
            models.Index(
                fields=["organization", "issue_date", "id"], name="invoice_org_issued"
            ),
            models.Index(
                fields=["organization", "due_date", "id"],
                name="invoice_open_due",
                condition=Q(kind="invoice", status__in=OPEN_INVOICE_STATUSES),
                include=["total", "amount_paid", "amount_credited", "currency"],
            ),
            # The dashboard's billed by month (billing.reports.monthly), read
            # from the index alone.
            models.Index(
                fields=["organization", "issue_date"],
                name="invoice_org_issued_month",
                condition=~Q(status__in=("draft", "void")),
                include=["kind", "total", "client"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "number"],
                name="invoice_number_unique_per_firm",
                condition=Q(number__isnull=False),
            ),
            # A draft has no number; anything issued has one.
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True)
                | (~Q(status="draft") & Q(number__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(total__gte=0)
                & Q(amount_paid__gte=0)
                & Q(amount_credited__gte=0),
                name="invoice_amounts_not_negative",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        if self.number is None:
            return "Draft"
        prefix = "CN-" if self.kind == InvoiceKind.CREDIT_NOTE else "INV-"
        return f"{prefix}{self.number:05d}"

    @property
    def balance(self) -> Decimal:
        if self.kind == InvoiceKind.CREDIT_NOTE or self.status == InvoiceStatus.VOID:
            return ZERO
        return self.total - self.amount_credited - self.amount_paid

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INVOICE_STATUSES

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.due_date is not None and self.due_date < today


class LineKind(models.TextChoices):
    TIME = "time", "Time"
    FEE = "fee", "Fixed fee"
    RETAINER = "retainer", "Retainer"
    EXPENSE = "expense", "Expense"
    LATE_FEE = "late_fee", "Late fee"
    CREDIT = "credit", "Credit"


class InvoiceLine(TenantModel):
    """One line of an invoice. `standard_amount` is what the work was worth at
    standard rates (for time: its entries' minutes x their rates); `amount` is
    what is billed. Their difference is the write-up (positive) or write-down
    (negative) that realization reports."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(
        max_length=10, choices=LineKind.choices, default=LineKind.FEE
    )
    description = models.CharField(max_length=500)
    engagement = models.ForeignKey(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(ZERO)],
    )
    unit_price = money_field(validators=[MinValueValidator(ZERO)])
    amount = money_field()
    standard_amount = money_field()
    taxable = models.BooleanField(default=True)
    adjustment_reason = models.CharField(max_length=300, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0)
                & Q(unit_price__gte=0)
                & Q(amount__gte=0)
                & Q(standard_amount__gte=0),
                name="invoiceline_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def adjustment(self) -> Decimal:
        """Write-up (> 0) or write-down (< 0) against the standard value."""
        return self.amount - self.standard_amount


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    US_BANK_ACCOUNT = "us_bank_account", "Bank transfer (ACH)"
    CHECK = "check", "Check"
    WIRE = "wire", "Wire"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


MANUAL_METHODS = (
    PaymentMethod.CHECK,
    PaymentMethod.WIRE,
    PaymentMethod.CASH,
    PaymentMethod.OTHER,
)


class PaymentStatus(models.TextChoices):
    # An ACH debit in flight: shown, not yet counted in amount_paid.
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Payment(TenantModel):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    amount = money_field()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    received_on = models.DateField(default=timezone.localdate)
    reference = models.CharField(max_length=200, blank=True)
    amount_refunded = money_field()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Stripe's ids: a payment intent is recorded once per firm, whatever the
    # number of events that announce it.
    stripe_payment_intent = models.CharField(max_length=255, blank=True)
    stripe_checkout_session = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "received_on"], name="payment_org_received"
            ),
            # The dashboard's collected by month (billing.reports.monthly).
            models.Index(
                fields=["organization", "received_on"],
                name="payment_org_collected",
                condition=Q(status="succeeded"),
                include=["amount", "amount_refunded", "client"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "stripe_payment_intent"],
                name="payment_intent_once_per_firm",
                condition=~Q(stripe_payment_intent=""),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(amount_refunded__gte=0)
                & Q(amount_refunded__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]
        ordering = ["-received_on", "-created_at"]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} by {self.method}"

    @property
    def refundable(self) -> Decimal:
        if self.status != PaymentStatus.SUCCEEDED:
            return ZERO
        return self.amount - self.amount_refunded


class RefundStatus(models.TextChoices):
    # Money on its way back counts as given back at once (the balance shows it);
    # a refund that fails is undone (billing.services.payments.payment_refund_failed).
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class Refund(TenantModel):
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = money_field()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.SUCCEEDED
    )
    reason = models.CharField(max_length=300, blank=True)
    stripe_refund = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
            models.UniqueConstraint(
                fields=["organization", "stripe_refund"],
                name="refund_stripe_once_per_firm",
                condition=~Q(stripe_refund=""),
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Refund of {self.amount}"


# Summaries kept by PostgreSQL ---------------------------------------------------------


class ClientBalance(models.Model):
    """One client's unbilled time, drafts and open receivables, kept by the
    database.

    Triggers (billing/summaries.py, migration 0004) add and take away each time
    entry's and each invoice's part as rows are written, in the same statement,
    so the sums are never stale and no service has to remember them. The money
    reports read them to find their largest clients at once in a firm of a
    hundred thousand (billing.reports.selectors). Cents, as the reports sum.
    Never written by the application.
    """

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="+")
    unbilled_entries = models.IntegerField(default=0)
    unbilled_minutes = models.BigIntegerField(default=0)
    unbilled_cents = models.BigIntegerField(default=0)
    draft_invoices = models.IntegerField(default=0)
    draft_cents = models.BigIntegerField(default=0)
    open_invoices = models.IntegerField(default=0)
    open_cents = models.BigIntegerField(default=0)

    objects = ScopedManager(organization="organization")
    kept_by_database = True  # not exported: an import's rows rebuild it

    class Meta:
        indexes = [
            # Work in progress: unbilled time and drafts, largest first.
            models.Index(
                F("organization"),
                (F("unbilled_cents") + F("draft_cents")).desc(),
                F("client"),
                name="clientbalance_wip",
                condition=Q(unbilled_entries__gt=0) | Q(draft_invoices__gt=0),
            ),
            models.Index(
                F("organization"),
                F("open_cents").desc(),
                F("client"),
                name="clientbalance_open",
                condition=Q(open_invoices__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"client {self.client_id}: {self.unbilled_cents} + {self.draft_cents}"
            f" / {self.open_cents}"
        )


class MoneyDay(models.Model):
    """A firm's unbilled time by the entries' date, its drafts by the day they
    were started (in the firm's time zone), or its receivables by due date, for
    each partner (`partner_key`: the client's partner's user id, 0 for
    none): a few thousand rows however many clients, from which the reports'
    totals and age bands are added up. Kept by the same triggers as
    ClientBalance (a client's new partner moves its part)."""

    class Kind(models.TextChoices):
        UNBILLED = "unbilled", "Unbilled time"
        DRAFT = "draft", "Draft invoice"
        DUE = "due", "Receivable"

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    partner_key = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)  # invoices' ("" for time)
    day = models.DateField()
    count = models.IntegerField(default=0)
    minutes = models.BigIntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    objects = ScopedManager(organization="organization")
    kept_by_database = True  # not exported: an import's rows rebuild it

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "partner_key", "currency", "day"],
                name="moneyday_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} (partner {self.partner_key}): {self.cents}"


class MonthTotal(models.Model):
    """Each firm's billed and collected figures by month, in cents: what the
    dashboard's chart reads (billing.reports.monthly), so twelve months cost
    twelve rows however many invoices the firm issues.

    Written only by database triggers on invoices and payments
    (billing/migrations/0007_month_totals.py), which add each row's share
    when it is written and take it back when it changes or goes: billed is an
    issued invoice's total (a credit note's counts negative) in its issue
    date's month, collected a succeeded payment's amount less what was refunded
    of it, in its received date's month. Whatever writes an invoice or a
    payment (a service, the Stripe webhook, a firm import, a bench seeder), the
    figures follow. Its composite key keeps it out of the firm export: an
    import rebuilds it from the invoices and payments it inserts."""

    pk = models.CompositePrimaryKey("organization_id", "month")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()  # its first day
    billed_cents = models.BigIntegerField(default=0)
    collected_cents = models.BigIntegerField(default=0)

    objects = ScopedManager(organization="organization")
    kept_by_database = True  # deleted after its sources when a firm is deleted

    class Meta:
        db_table = "billing_monthtotal"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} of firm {self.organization_id}"
