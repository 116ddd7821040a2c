"""Billed and collected by month, for the firm dashboard's chart (one query).

Definitions (docs/dashboard.md):
- billed: the totals of the invoices issued in the month (tax included: what
  the clients were asked to pay), less the totals of the credit notes issued
  in it; drafts and void ones never count. The Revenue report shows fees
  before tax, spread over partners and services; this is the cash view;
- collected: the succeeded payments received in the month, each less what was
  refunded of it (counted in the payment's month, as the realization report
  does, so a refund never turns a later month negative).

Both come from one `UNION ALL` grouped by month: the invoices' rows read
through `invoice_org_issued_month` and the payments' through
`payment_org_collected`, both covering indexes, so PostgreSQL answers from the
indexes alone (bench/dashboard.py prints the plan at 100,000 invoices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, models
from django.db.models import Case, ExpressionWrapper, F, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, TruncMonth

from billing.models import Invoice, InvoiceKind, Payment, PaymentStatus
from billing.reports.period import add_months, month_start
from billing.reports.selectors import (
    CENT,
    MONEY,
    NOT_ISSUED,
    ReportScope,
    _cents,
    _union,
)

MONTHS = 12
COLUMNS = ("month", "billed_cents", "collected_cents")


@dataclass(frozen=True)
class MonthFigures:
    month: date  # its first day
    billed: Decimal
    collected: Decimal


def _month(field_name: str) -> Cast:
    # DATE_TRUNC answers a timestamp; the months are dates.
    return Cast(TruncMonth(field_name), models.DateField())


def _sources(scope: ReportScope, start: date, end: date) -> list[QuerySet]:
    """Each source summed by month on its own (twelve rows each), so PostgreSQL
    adds up straight from the index it scans, with nothing carried between."""
    signed_total = Case(
        When(kind=InvoiceKind.CREDIT_NOTE, then=-F("total")),
        default=F("total"),
        output_field=MONEY,
    )
    invoices = (
        scope.limit(Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end))
        .exclude(status__in=NOT_ISSUED)
        .values(month=_month("issue_date"))
        .annotate(
            billed_cents=Sum(_cents(signed_total)),
            collected_cents=Value(0, models.BigIntegerField()),
        )
        .order_by()
    )
    payments = (
        scope.limit(
            Payment.objects.filter(
                status=PaymentStatus.SUCCEEDED,
                received_on__gte=start,
                received_on__lte=end,
            )
        )
        .values(month=_month("received_on"))
        .annotate(
            billed_cents=Value(0, models.BigIntegerField()),
            collected_cents=Sum(
                _cents(
                    ExpressionWrapper(
                        F("amount") - F("amount_refunded"), output_field=MONEY
                    )
                )
            ),
        )
        .order_by()
    )
    return [invoices, payments]


def billed_and_collected(
    scope: ReportScope, months: int = MONTHS
) -> list[MonthFigures]:
    """The last `months` months up to this one (the firm's), oldest first, each
    with its billed and collected figures (zero where nothing happened)."""
    first = add_months(scope.today, -(months - 1))
    last = add_months(scope.today, 1) - timedelta(days=1)
    union, params = _union(_sources(scope, first, last), COLUMNS)
    found: dict[date, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(union, params)
        for month, billed, collected in cursor.fetchall():
            before = found.get(month, (0, 0))
            found[month] = (before[0] + billed, before[1] + collected)
    figures = []
    for i in range(months):
        month = add_months(first, i)
        billed, collected = found.get(month, (0, 0))
        figures.append(
            MonthFigures(
                month=month_start(month),
                billed=(Decimal(billed) / 100).quantize(CENT),
                collected=(Decimal(collected) / 100).quantize(CENT),
            )
        )
    return figures
