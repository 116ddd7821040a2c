"""Billed and collected by month, for the firm dashboard's chart (one query).

Definitions (docs/dashboard.md):
- billed: the totals of the invoices issued in the month (tax included: what
  the clients were asked to pay), less the totals of the credit notes issued
  in it; drafts and void ones never count. The Revenue report shows fees
  before tax, spread over partners and services; this is the cash view;
- collected: the succeeded payments received in the month, each less what was
  refunded of it (counted in the payment's month, as the realization report
  does, so a refund never turns a later month negative).

The firm's figures are read from `billing.models.MonthTotal`, which database
triggers keep as invoices and payments are written
(billing/migrations/0007_month_totals.py): twelve rows, whatever the number of
invoices. A member limited to assigned clients gets their clients' figures
from the invoices and payments themselves (one `UNION ALL` of two reads summed
by day, added up into months here), through the covering partial indexes
`invoice_org_issued_month` and `payment_org_collected`; their clients'
invoices are few. Both paths give the same figures
(tests/billing/test_month_totals.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, models
from django.db.models import F, Q, QuerySet, Sum, Value

from billing.models import Invoice, InvoiceKind, MonthTotal, Payment, PaymentStatus
from billing.reports.period import add_months, month_start
from billing.reports.selectors import (
    CENT,
    NOT_ISSUED,
    ReportScope,
    _cents,
    _union,
)

MONTHS = 12
COLUMNS = ("day", "credit", "billed_cents", "collected_cents")


@dataclass(frozen=True)
class MonthFigures:
    month: date  # its first day
    billed: Decimal
    collected: Decimal


def _sources(scope: ReportScope, start: date, end: date) -> list[QuerySet]:
    """Each source summed by day (and kind): a plain column to group by, read
    in the covering index's order, where a month expression would cost a time
    zone conversion a row. Python adds the days up into months."""
    invoices = (
        scope.limit(Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end))
        .exclude(status__in=NOT_ISSUED)
        .values(day=F("issue_date"), credit=Q(kind=InvoiceKind.CREDIT_NOTE))
        .annotate(
            billed_cents=Sum(_cents("total")),
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
        .values(day=F("received_on"), credit=Value(False))
        .annotate(
            billed_cents=Value(0, models.BigIntegerField()),
            collected_cents=Sum(_cents("amount")) - Sum(_cents("amount_refunded")),
        )
        .order_by()
    )
    return [invoices, payments]


def billed_and_collected(
    scope: ReportScope, months: int = MONTHS
) -> list[MonthFigures]:
    """The last `months` months up to this one (the firm's), oldest first, each
    with its billed and collected figures (zero where nothing happened). One
    query: the firm's month totals, or, for a member limited to assigned
    clients, their clients' invoices and payments."""
    first = add_months(scope.today, -(months - 1))
    last = add_months(scope.today, 1) - timedelta(days=1)
    if scope.clients is None:
        found = _firm_months(scope, first, last)
    else:
        found = _clients_months(scope, first, last)
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


def _firm_months(scope: ReportScope, first: date, last: date) -> dict:
    """The firm's month totals (kept by triggers: billing.models.MonthTotal)."""
    return {
        month: (billed, collected)
        for month, billed, collected in MonthTotal.objects.filter(
            organization=scope.organization, month__gte=first, month__lte=last
        ).values_list("month", "billed_cents", "collected_cents")
    }


def _clients_months(scope: ReportScope, first: date, last: date) -> dict:
    """The member's clients' invoices and payments, added up by day in
    PostgreSQL and into months here."""
    union, params = _union(_sources(scope, first, last), COLUMNS)
    found: dict[date, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(union, params)
        for day, credit, billed, collected in cursor.fetchall():
            month = month_start(day)
            before = found.get(month, (0, 0))
            found[month] = (
                before[0] + (-billed if credit else billed),
                before[1] + collected,
            )
    return found
