"""Money reports: work in progress, receivables ageing, realization, revenue and
budget against actual, each a page (a chart, a table, a period filter) and a
CSV export under /o/<slug>/billing/reports/.

Every member may read them (read-only members too: nothing here writes); a
member whom the firm limits to assigned clients sees those clients' figures
only (billing.reports.selectors.ReportScope). The figures are computed in
PostgreSQL; a page costs its frame's queries, the firm's currency, and one
query per table, whatever the firm's size.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.charts import Series, bar_chart, line_chart, stacked_bar_chart
from advisoros.csv_safe import csv_safe
from advisoros.row_urls import row_url
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.replica import reads_from_replica
from advisoros.tenancy.request import OrgRequest
from billing.reports.period import PRESETS, Period
from billing.reports.selectors import (
    AR_AGES,
    BY_CLIENT,
    BY_ENGAGEMENT,
    BY_PARTNER,
    CHART_ROWS,
    CHART_SERIES,
    PAGE_ROWS,
    REALIZATION_GROUPINGS,
    WIP_AGES,
    WIP_GROUPINGS,
    ZERO,
    Grouping,
    ReportScope,
    ar_ageing_report,
    ar_ageing_rows,
    budget_report,
    budget_rows,
    percent,
    realization_report,
    realization_rows,
    report_currency,
    revenue_report,
    revenue_rows,
    service_label,
    wip_report,
    wip_rows,
)

# (URL name, tab label, one line about it)
REPORTS = (
    ("report_wip", "Work in progress", "Unbilled time and draft invoices"),
    ("report_ar_ageing", "Receivables", "What clients owe, by days past due"),
    ("report_realization", "Realization", "Billed against standard, collected"),
    ("report_revenue", "Revenue", "By partner and by service, by month"),
    ("report_budget", "Budget vs actual", "Engagement hours and fees"),
)


def _hours(minutes: Decimal | int | None) -> Decimal | None:
    if minutes is None:
        return None
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"))


def _money_text(currency: str) -> Callable[[Any], str]:
    def fmt(value) -> str:
        return f"{currency} {Decimal(value):,.2f}"

    return fmt


def _hours_text(value) -> str:
    return f"{Decimal(value):,.1f} h"


class _Labels:
    """Each grouped row's name, second line and link, from one reverse() a page."""

    def __init__(self, grouping: Grouping, slug: str) -> None:
        self.grouping = grouping
        self.client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
        self.engagement_url = row_url(
            "clients:engagement_detail", "engagement_uuid", org_slug=slug
        )

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.grouping is BY_PARTNER:
            row["label"] = row["partner_name"] or row["partner_email"] or "No partner"
            row["url"] = ""
            row["sub"] = ""
        elif self.grouping is BY_ENGAGEMENT:
            row["label"] = row["engagement_name"] or "No engagement"
            row["url"] = (
                self.engagement_url(row["engagement_uuid"])
                if row["engagement_uuid"]
                else ""
            )
            row["sub"] = row["client_name"] or ""
        else:
            row["label"] = row["client_name"] or ""
            row["url"] = self.client_url(row["client_uuid"])
            row["sub"] = ""
        return row


def _page_ctx(
    request: OrgRequest,
    *,
    name: str,
    period: Period,
    currency: str,
    grouping: Grouping | None = None,
    groupings: Iterable[Grouping] = (),
) -> dict[str, Any]:
    query = period.query()
    if grouping is not None:
        query["group"] = grouping.key
    slug = {"org_slug": request.organization.slug}
    return {
        "tabs": [
            (reverse(f"billing:{key}", kwargs=slug), label, about, key == name)
            for key, label, about in REPORTS
        ],
        "csv_url": reverse(f"billing:{name}_csv", kwargs=slug),
        "title": next(label for key, label, _ in REPORTS if key == name),
        "period": period,
        "presets": PRESETS.items(),
        "grouping": grouping,
        "groupings": [(g.key, g.label) for g in groupings],
        "currency": currency,
        "query": urlencode(query),
        "page_rows": PAGE_ROWS,
    }


def _scope_and_period(request: OrgRequest, default: str) -> tuple[ReportScope, Period]:
    scope = ReportScope.of(request)
    return scope, Period.from_query(request.GET, today=scope.today, default=default)


# Work in progress -----------------------------------------------------------------


@reads_from_replica
@require_GET
@require_role(Role.READONLY)
def report_wip(request: OrgRequest, org_slug: str) -> HttpResponse:
    scope, period = _scope_and_period(request, "all")
    grouping = WIP_GROUPINGS.get(request.GET.get("group", ""), BY_CLIENT)
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: time and draft lines grouped (GROUPING SETS: the totals row too).
    report = wip_report(scope, period, grouping)
    label = _Labels(grouping, request.organization.slug)
    rows = [label(row) for row in report.rows]
    for row in [*rows, report.total]:
        row["hours"] = _hours(row["minutes"])
    top = rows[:CHART_ROWS]
    ctx = _page_ctx(
        request,
        name="report_wip",
        period=period,
        currency=currency,
        grouping=grouping,
        groupings=WIP_GROUPINGS.values(),
    ) | {
        "report": report,
        "rows": rows,
        "total": report.total,
        "ages": WIP_AGES,
        "chart": stacked_bar_chart(
            title=f"Largest work in progress by {grouping.label.lower()}, by age",
            categories=[r["label"] for r in top],
            series=[
                Series(age_label, [r[key] for r in top])
                for key, age_label, _, _ in WIP_AGES
            ],
            fmt=_money_text(currency),
            category_title=grouping.label,
            summary=f"Unbilled work of the {len(top)} largest, in {currency}, split"
            " by how long ago it was done.",
            empty_text="No unbilled work in this period.",
        ),
    }
    return render(request, "billing/reports/wip.html", ctx)


def _wip_csv_row(row: dict[str, Any], grouping: Grouping) -> list[str]:
    return [
        *_csv_names(row, grouping),
        *(
            _csv_number(row[k])
            for k in ("minutes", "time", "drafts", *(a[0] for a in WIP_AGES), "total")
        ),
    ]


@require_GET
@require_role(Role.READONLY)
def report_wip_csv(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    scope, period = _scope_and_period(request, "all")
    grouping = WIP_GROUPINGS.get(request.GET.get("group", ""), BY_CLIENT)
    header = [
        *_csv_name_header(grouping),
        "unbilled minutes",
        "unbilled time",
        "draft invoices",
        *(label for _, label, _, _ in WIP_AGES),
        "total",
    ]
    rows = (_wip_csv_row(r, grouping) for r in wip_rows(scope, period, grouping))
    return _csv_response(
        request, f"work-in-progress-by-{grouping.key}", period, header, rows
    )


# Receivables ageing -------------------------------------------------------------------


@reads_from_replica
@require_GET
@require_role(Role.READONLY)
def report_ar_ageing(request: OrgRequest, org_slug: str) -> HttpResponse:
    scope, period = _scope_and_period(request, "all")
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: open invoices' balances grouped by client, with the totals row.
    report = ar_ageing_report(scope, period)
    label = _Labels(BY_CLIENT, request.organization.slug)
    rows = [label(row) for row in report.rows]
    top = rows[:CHART_ROWS]
    money = _money_text(currency)
    ctx = _page_ctx(
        request, name="report_ar_ageing", period=period, currency=currency
    ) | {
        "report": report,
        "rows": rows,
        "total": report.total,
        "ages": AR_AGES,
        "overdue": report.total["total"] - report.total["current"],
        "chart_ages": bar_chart(
            title="Owed by days past due",
            categories=[age_label for _, age_label, _, _ in AR_AGES],
            series=[Series("Owed", [report.total[k] for k, _, _, _ in AR_AGES])],
            fmt=money,
            category_title="Days past due",
            summary=f"The balance of every open invoice, in {currency}, by how long"
            " past its due date it is.",
            empty_text="No open invoices in this period.",
        )
        if report.rows
        else bar_chart(
            title="Owed by days past due",
            categories=[],
            series=[],
            empty_text="No open invoices in this period.",
        ),
        "chart_clients": stacked_bar_chart(
            title="Largest balances, by days past due",
            categories=[r["label"] for r in top],
            series=[
                Series(age_label, [r[k] for r in top]) for k, age_label, _, _ in AR_AGES
            ],
            fmt=money,
            category_title="Client",
            summary=f"The {len(top)} clients who owe the most, in {currency}.",
            empty_text="No client owes anything.",
        ),
    }
    return render(request, "billing/reports/ar_ageing.html", ctx)


@require_GET
@require_role(Role.READONLY)
def report_ar_ageing_csv(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    scope, period = _scope_and_period(request, "all")
    header = [
        *_csv_name_header(BY_CLIENT),
        "open invoices",
        *(label for _, label, _, _ in AR_AGES),
        "total",
    ]
    rows = (
        [
            *_csv_names(r, BY_CLIENT),
            str(r["invoices"]),
            *(_csv_number(r[k]) for k, _, _, _ in AR_AGES),
            _csv_number(r["total"]),
        ]
        for r in ar_ageing_rows(scope, period)
    )
    return _csv_response(request, "receivables-ageing", period, header, rows)


# Realization ------------------------------------------------------------------------


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["billing_rate"] = percent(row["billed"], row["standard"])
    row["collection_rate"] = percent(row["collected"], row["owed"])
    row["adjustment"] = row["billed"] - row["standard"]
    return row


@reads_from_replica
@require_GET
@require_role(Role.READONLY)
def report_realization(request: OrgRequest, org_slug: str) -> HttpResponse:
    scope, period = _scope_and_period(request, "this_year")
    grouping = REALIZATION_GROUPINGS.get(request.GET.get("group", ""), BY_PARTNER)
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: the period's invoices with their lines' standard value, credit notes
    # and payments (subqueries), grouped, with the totals row.
    report = realization_report(scope, period, grouping)
    label = _Labels(grouping, request.organization.slug)
    rows = [_with_rates(label(row)) for row in report.rows]
    _with_rates(report.total)
    top = rows[:CHART_ROWS]
    ctx = _page_ctx(
        request,
        name="report_realization",
        period=period,
        currency=currency,
        grouping=grouping,
        groupings=REALIZATION_GROUPINGS.values(),
    ) | {
        "report": report,
        "rows": rows,
        "total": report.total,
        "chart": bar_chart(
            title=f"Standard value, billed and collected by {grouping.label.lower()}",
            categories=[r["label"] for r in top],
            series=[
                Series("Standard value", [r["standard"] for r in top]),
                Series("Billed", [r["billed"] for r in top]),
                Series("Collected", [r["collected"] for r in top]),
            ],
            fmt=_money_text(currency),
            category_title=grouping.label,
            summary=f"For the invoices issued in the period, in {currency}.",
            empty_text="No invoices issued in this period.",
        ),
    }
    return render(request, "billing/reports/realization.html", ctx)


@require_GET
@require_role(Role.READONLY)
def report_realization_csv(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    scope, period = _scope_and_period(request, "this_year")
    grouping = REALIZATION_GROUPINGS.get(request.GET.get("group", ""), BY_PARTNER)
    header = [
        *_csv_name_header(grouping),
        "invoices",
        "standard value",
        "billed",
        "billing realization %",
        "owed",
        "collected",
        "collection realization %",
    ]
    rows = (
        [
            *_csv_names(r, grouping),
            str(r["invoices"]),
            _csv_number(r["standard"]),
            _csv_number(r["billed"]),
            _csv_number(r["billing_rate"]),
            _csv_number(r["owed"]),
            _csv_number(r["collected"]),
            _csv_number(r["collection_rate"]),
        ]
        for r in map(_with_rates, realization_rows(scope, period, grouping))
    )
    return _csv_response(
        request, f"realization-by-{grouping.key}", period, header, rows
    )


# Revenue ------------------------------------------------------------------------------


def _pivot(cells, keys: list, months: list[date]) -> dict[Any, list[Decimal]]:
    """{key: [revenue of each month]} with zeros where nothing was billed."""
    position = {m: i for i, m in enumerate(months)}
    table = {key: [ZERO] * len(months) for key in keys}
    for cell in cells:
        if cell.month is not None and cell.month in position and cell.key in table:
            table[cell.key][position[cell.month]] = cell.revenue
    return table


def _ranked(cells) -> list:
    """The keys by their whole period's revenue, largest first."""
    totals = [c for c in cells if c.month is None]
    return [c.key for c in sorted(totals, key=lambda c: (-c.revenue, str(c.key)))]


def _series(
    names: dict[Any, str], table: dict[Any, list[Decimal]], keys: list
) -> list[Series]:
    """The CHART_SERIES largest as series, the rest summed as "Others"."""
    shown = [Series(names[k], table[k]) for k in keys[:CHART_SERIES]]
    rest = keys[CHART_SERIES:]
    if rest:
        columns = zip(*(table[k] for k in rest), strict=True)
        shown.append(Series("Others", [sum(c, ZERO) for c in columns]))
    return shown


@reads_from_replica
@require_GET
@require_role(Role.READONLY)
def report_revenue(request: OrgRequest, org_slug: str) -> HttpResponse:
    scope, period = _scope_and_period(request, "last_12_months")
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: invoice lines grouped by partner and month, by service type and
    # month, by month and in all (GROUPING SETS).
    report = revenue_report(scope, period)
    months_seen = [c.month for c in report.by_month]
    months = period.months(
        first=min(months_seen, default=None), last=max(months_seen, default=None)
    )
    month_labels = [date_format(m, "M Y") for m in months]
    partners = _ranked(report.by_partner)
    services = _ranked(report.by_service)
    partner_names = {k: report.partner_names.get(k, "No partner") for k in partners}
    service_names = {k: service_label(k) for k in services}
    by_partner = _pivot(report.by_partner, partners, months)
    by_service = _pivot(report.by_service, services, months)
    by_month = _pivot([c for c in report.by_month], [None], months)[None]
    money = _money_text(currency)
    ctx = _page_ctx(
        request, name="report_revenue", period=period, currency=currency
    ) | {
        "report": report,
        "months": month_labels,
        "month_totals": by_month,
        "partner_rows": [
            (partner_names[k], by_partner[k], sum(by_partner[k], ZERO))
            for k in partners
        ],
        "service_rows": [
            (service_names[k], by_service[k], sum(by_service[k], ZERO))
            for k in services
        ],
        "chart_partners": stacked_bar_chart(
            title="Revenue by month and partner",
            categories=month_labels if partners else [],
            series=_series(partner_names, by_partner, partners),
            fmt=money,
            category_title="Month",
            summary=f"Fees billed each month, in {currency}, by the client's partner.",
            empty_text="Nothing billed in this period.",
        ),
        "chart_services": line_chart(
            title="Revenue by month and service type",
            categories=month_labels if services else [],
            series=_series(service_names, by_service, services),
            fmt=money,
            category_title="Month",
            summary=f"Fees billed each month, in {currency}, by engagement type.",
            empty_text="Nothing billed in this period.",
        ),
    }
    return render(request, "billing/reports/revenue.html", ctx)


@require_GET
@require_role(Role.READONLY)
def report_revenue_csv(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    scope, period = _scope_and_period(request, "last_12_months")
    header = ["dimension", "name", "month", "revenue"]
    rows = (
        [
            r["dimension"],
            csv_safe(r["name"]),
            r["month"].strftime("%Y-%m"),
            _csv_number(r["revenue"]),
        ]
        for r in revenue_rows(scope, period)
    )
    return _csv_response(request, "revenue", period, header, rows)


# Budget against actual ------------------------------------------------------------------


def _with_budget(row: dict[str, Any]) -> dict[str, Any]:
    row["budget_hours"] = _hours(row["budget_minutes"])
    row["recorded_hours"] = _hours(row["recorded_minutes"])
    row["over_hours"] = _hours(row["over_minutes"])
    row["hours_used"] = (
        percent(Decimal(row["recorded_minutes"]), row["budget_minutes"])
        if row["budget_minutes"] is not None
        else None
    )
    return row


@reads_from_replica
@require_GET
@require_role(Role.READONLY)
def report_budget(request: OrgRequest, org_slug: str) -> HttpResponse:
    scope, period = _scope_and_period(request, "this_year")
    # Query: the firm's currency.
    currency = report_currency(request.organization)
    # Query: engagements with a budget or fee, their recorded minutes and billed
    # fees (subqueries), furthest over budget first, with the totals row.
    report = budget_report(scope, period)
    label = _Labels(BY_ENGAGEMENT, request.organization.slug)
    rows = [_with_budget(label(row)) for row in report.rows]
    _with_budget(report.total)
    hours_rows = [r for r in rows if r["budget_minutes"] is not None][:CHART_ROWS]
    ctx = _page_ctx(request, name="report_budget", period=period, currency=currency) | {
        "report": report,
        "rows": rows,
        "total": report.total,
        "chart": bar_chart(
            title="Hours: budgeted and recorded",
            categories=[r["label"] for r in hours_rows],
            series=[
                Series("Budgeted", [r["budget_hours"] for r in hours_rows]),
                Series("Recorded", [r["recorded_hours"] for r in hours_rows]),
            ],
            fmt=_hours_text,
            category_title="Engagement",
            summary="The engagements furthest over their hours budget.",
            empty_text="No engagement with an hours budget in this period.",
        ),
    }
    return render(request, "billing/reports/budget.html", ctx)


@require_GET
@require_role(Role.READONLY)
def report_budget_csv(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    scope, period = _scope_and_period(request, "this_year")
    header = [
        *_csv_name_header(BY_ENGAGEMENT),
        "budgeted hours",
        "recorded hours",
        "hours over budget",
        "fixed fee",
        "billed",
        "fee not yet billed",
    ]
    rows = (
        [
            *_csv_names(r, BY_ENGAGEMENT),
            *(
                _csv_number(r[k])
                for k in (
                    "budget_hours",
                    "recorded_hours",
                    "over_hours",
                    "fee",
                    "billed",
                    "fee_left",
                )
            ),
        ]
        for r in map(_with_budget, budget_rows(scope, period))
    )
    return _csv_response(request, "budget-vs-actual", period, header, rows)


# CSV -----------------------------------------------------------------------------------


class _Echo:
    """A file-like object for csv.writer that hands each row back."""

    def write(self, value: str) -> str:
        return value


def _csv_number(value: Decimal | int | None) -> str:
    # Our own numbers, never typed text: "-12.50" is a number to a spreadsheet,
    # so they skip csv_safe (which would quote the minus sign).
    return "" if value is None else str(value)


def _csv_name_header(grouping: Grouping) -> list[str]:
    if grouping is BY_ENGAGEMENT:
        return ["engagement", "client"]
    return [grouping.label.lower()]


def _csv_names(row: dict[str, Any], grouping: Grouping) -> list[str]:
    """The row's names (typed by people: made safe for spreadsheets); the totals
    row, first, is named "Total"."""
    if row["is_total"]:
        return ["Total", ""] if grouping is BY_ENGAGEMENT else ["Total"]
    if grouping is BY_PARTNER:
        return [csv_safe(row["partner_name"] or row["partner_email"] or "No partner")]
    if grouping is BY_ENGAGEMENT:
        return [
            csv_safe(row["engagement_name"] or "No engagement"),
            csv_safe(row["client_name"]),
        ]
    return [csv_safe(row["client_name"])]


def _csv_response(
    request: OrgRequest,
    name: str,
    period: Period,
    header: list[str],
    rows: Iterator[list[str]],
) -> StreamingHttpResponse:
    # A report's figures leaving the firm's pages: who took which, for when.
    audit_event_record(
        action=AuditAction.REPORT_EXPORTED,
        organizations=[request.organization],
        actor=request.user,
        request=request,
        target=name,
        detail={
            "report": name,
            "period": period.slug(),
            "query": {
                k: v for k, v in request.GET.items() if k != "csrfmiddlewaretoken"
            },
        },
    )

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        # The tenancy middleware re-enters the firm's context while this streams.
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{request.organization.slug}-{period.slug()}.csv"'
    )
    return response


urlpatterns = [
    path("billing/reports/", report_wip, name="report_wip"),
    path("billing/reports/wip.csv", report_wip_csv, name="report_wip_csv"),
    path("billing/reports/ageing/", report_ar_ageing, name="report_ar_ageing"),
    path(
        "billing/reports/ageing.csv",
        report_ar_ageing_csv,
        name="report_ar_ageing_csv",
    ),
    path(
        "billing/reports/realization/",
        report_realization,
        name="report_realization",
    ),
    path(
        "billing/reports/realization.csv",
        report_realization_csv,
        name="report_realization_csv",
    ),
    path("billing/reports/revenue/", report_revenue, name="report_revenue"),
    path("billing/reports/revenue.csv", report_revenue_csv, name="report_revenue_csv"),
    path("billing/reports/budget/", report_budget, name="report_budget"),
    path("billing/reports/budget.csv", report_budget_csv, name="report_budget_csv"),
]
