"""Billing's panels on the firm dashboard (slot "dashboard", advisoros/panels.py):
billed and collected by month over the last twelve, receivables by days past
due, and work in progress.

Who sees them: every member who sees the dashboard, read-only members too, as
every member reads the money reports (billing/views/reports.py); billing
rights (billing.services.common.require_biller) govern writing invoices and
payments, and nothing here writes. A member limited to assigned clients sees
those clients' figures only (ReportScope). docs/decisions.md (items 204-212).

Four queries whatever the firm's size: the firm's currency, the months'
figures (billing.reports.monthly), the receivables' and the work in
progress's totals (billing.reports.selectors).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.dateformat import format as date_format

from advisoros.charts import Series, bar_chart, line_chart
from advisoros.panels import register_panel
from billing.reports.monthly import billed_and_collected
from billing.reports.selectors import (
    AR_AGES,
    ZERO,
    ReportScope,
    ar_ageing_totals,
    report_currency,
    wip_totals,
)

BILLED_COLOR = "#1d4ed8"  # blue
COLLECTED_COLOR = "#047857"  # green
AGES_COLOR = "#b45309"  # amber


def _money(currency: str):
    def fmt(value) -> str:
        return f"{currency} {Decimal(value):,.2f}"

    return fmt


def dashboard_money_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    scope = ReportScope.of(request)
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: billed and collected in each of the last twelve months.
    months = billed_and_collected(scope)
    # Query: what clients owe, by days past due (the receivables report's totals).
    ar = ar_ageing_totals(scope)
    # Query: unbilled time and draft invoices (the work in progress's totals).
    wip = wip_totals(scope)
    money = _money(currency)
    labels = [date_format(m.month, "M Y") for m in months]
    billed = sum((m.billed for m in months), ZERO)
    collected = sum((m.collected for m in months), ZERO)
    has_months = any(m.billed or m.collected for m in months)
    past_due = sum((ar[name] or ZERO for name, *_ in AR_AGES[1:]), ZERO)
    return {
        "organization": request.organization,
        "can_write": request.membership.can_write,
        "currency": currency,
        "billed": billed,
        "collected": collected,
        "ar": ar,
        "past_due": past_due,
        "wip": wip,
        "wip_hours": (Decimal(wip["minutes"] or 0) / 60).quantize(Decimal("0.1")),
        "has_months": has_months,
        "chart_months": line_chart(
            title="Billed and collected by month",
            categories=labels,
            series=[
                Series("Billed", [m.billed for m in months], BILLED_COLOR),
                Series("Collected", [m.collected for m in months], COLLECTED_COLOR),
            ],
            fmt=money,
            category_title="Month",
            summary=(
                f"Invoiced (less credit notes) and received each month, in {currency}."
            ),
            chart_id="dashboard-billed",
        )
        if has_months
        else "",
        "chart_ages": bar_chart(
            title="Receivables by days past due",
            categories=[label for _, label, *_ in AR_AGES],
            series=[Series("Owed", [ar[name] or ZERO for name, *_ in AR_AGES])],
            fmt=money,
            category_title="Days past due",
            summary=f"What clients owe on issued invoices, in {currency}.",
            chart_id="dashboard-ageing",
        )
        if ar["total"]
        else "",
    }


register_panel(
    "dashboard",
    template="billing/panels/dashboard_money.html",
    context=dashboard_money_context,
    order=400,
)
