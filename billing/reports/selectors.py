"""The money reports' figures, computed in PostgreSQL.

Each table is one query: the rows a report reads (time entries, invoice lines,
invoices, engagements) are selected through the ORM, so the firm, the member's
visible clients and the period filter are applied as everywhere else; their
SQL is then grouped by one outer `GROUP BY GROUPING SETS ((keys), ())`, which
gives the page's rows and its totals row together, ordered by size, cut to a
page (LIMIT) and joined to the names they show. Nothing is summed in Python, so
a page costs the same number of queries for a firm of ten clients or of a
hundred thousand, and the money stays Decimal (numeric) all the way.

Definitions (docs/billing.md, "Money reports"):
- Work in progress: billable time not on any invoice, at its recorded rate
  (minutes x rate / 60, rounded half-up to the cent per entry, as
  `TimeEntry.value`), plus the lines of draft invoices (time on a draft is on
  its line, never counted twice). Aged by the entry's date, or the draft's.
- Receivables: issued invoices still open (sent, viewed, partially paid,
  overdue), balance = total - amount credited - amount paid, aged by days past
  the due date: current (not yet due), 1-30, 31-60, 61-90, over 90.
- Realization, for the invoices issued in the period (a cohort): billing
  realization = fees billed (lines after the invoice's discount, before tax,
  less the credit notes against them) / standard value (the lines'
  `standard_amount`); collection realization = collected (succeeded payments
  less their refunds) / owed (total less credits).
- Revenue: fees billed in the month of the invoice's issue date (after
  discount, before tax), credit notes counted negative in their own month;
  by the client's partner and by the engagement's type (the line's engagement,
  else the invoice's).
- Budget against actual: an engagement's budgeted hours against every minute
  recorded on it, and its fixed fee against the fees billed on it.
Void and draft invoices are never revenue, receivables or realization.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    NullIf,
    Round,
    TruncDate,
    TruncMonth,
)

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.models import Organization
from advisoros.tenancy.request import OrgRequest
from billing.models import (
    OPEN_INVOICE_STATUSES,
    BillingSettings,
    ClientBalance,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    MoneyDay,
    Payment,
    PaymentStatus,
    TimeEntry,
)
from billing.reports.period import Period
from clients.models import Client, Engagement, EngagementType
from clients.selectors import sees_assigned_only, visible_clients

PAGE_ROWS = 50  # a report's table shows the largest rows; the CSV has them all
CHART_ROWS = 10  # bars in a chart of categories
CHART_SERIES = 6  # lines or stacked parts; the rest are summed as "Others"
NOT_ISSUED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportScope:
    """Whose figures a report adds up: the firm's, or only the member's clients
    where the firm shows staff their assigned clients only (clients.selectors)."""

    organization: Organization
    today: date
    clients: QuerySet[Client] | None = None  # None: every client of the firm

    @classmethod
    def of(cls, request: OrgRequest) -> ReportScope:
        limited = sees_assigned_only(request.membership)
        return cls(
            organization=request.organization,
            today=firm_today(request.organization),
            clients=visible_clients(request) if limited else None,
        )

    def limit(self, qs: QuerySet, client: str = "client") -> QuerySet:
        """`qs` in the firm, and through `client` (a path to the row's client)
        among the member's visible clients when the firm limits them."""
        qs = qs.filter(organization=self.organization)
        if self.clients is not None:
            qs = qs.filter(**{f"{client}__in": self.clients.values("pk")})
        return qs.order_by()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.organization.timezone)


def report_currency(organization: Organization) -> str:
    """The firm's currency (query: its billing settings), USD before any."""
    found = (
        BillingSettings.objects.filter(organization=organization)
        .values_list("currency", flat=True)
        .first()
    )
    return found or "USD"


# The grouped query ----------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


def _union(sources: Sequence[QuerySet], columns: Sequence[str]) -> tuple[str, list]:
    """The rows of every source (each a `.values(*columns)`), one after another:
    Django's own SQL with its parameters kept apart, nothing inlined."""
    cols = ", ".join(_q(c) for c in columns)
    parts, params = [], []
    for i, qs in enumerate(sources):
        try:
            sql, args = qs.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing
            continue
        parts.append(f"SELECT {cols} FROM ({sql}) AS s{i}")  # noqa: S608
        params.extend(args)
    if not parts:  # no source: no rows, with the columns' names
        nulls = ", ".join(f"NULL AS {_q(c)}" for c in columns)
        return f"SELECT {nulls} WHERE false", []  # noqa: S608
    return " UNION ALL ".join(parts), params


@dataclass(frozen=True)
class Measure:
    """An aggregate over the source's columns (SQL of our own, never typed
    input; values as %s parameters). `cents`: it sums whole cents (bigint),
    turned back into Decimal money once fetched."""

    name: str
    sql: str
    params: tuple = ()
    cents: bool = False


@dataclass(frozen=True)
class Grouping:
    """What a table's rows are: the source columns they are grouped by and the
    names joined to them for the page (`agg` is the grouped row)."""

    key: str
    label: str
    keys: tuple[str, ...]
    names: tuple[tuple[str, str], ...]  # (column, SQL over the joined tables)
    joins: tuple[tuple[type[models.Model], str, str], ...]  # (model, alias, on)


def _client_join(alias: str = "c") -> tuple[type[models.Model], str, str]:
    return (Client, alias, f"{alias}.id = agg.k_client")


BY_CLIENT = Grouping(
    key="client",
    label="Client",
    keys=("k_client",),
    names=(("client_name", "c.display_name"), ("client_uuid", "c.uuid")),
    joins=(_client_join(),),
)
BY_ENGAGEMENT = Grouping(
    key="engagement",
    label="Engagement",
    keys=("k_client", "k_engagement"),
    names=(
        ("client_name", "c.display_name"),
        ("client_uuid", "c.uuid"),
        ("engagement_name", "e.name"),
        ("engagement_uuid", "e.uuid"),
    ),
    joins=(_client_join(), (Engagement, "e", "e.id = agg.k_engagement")),
)
BY_PARTNER = Grouping(
    key="partner",
    label="Partner",
    keys=("k_partner",),
    names=(("partner_name", "u.name"), ("partner_email", "u.email")),
    joins=((User, "u", "u.id = agg.k_partner"),),
)


@dataclass
class Grouped:
    total: dict[str, Any]
    rows: list[dict[str, Any]]
    more: bool = False  # there are more rows than the page shows

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _money_of(row: dict[str, Any], measures: Sequence[Measure]) -> dict[str, Any]:
    for m in measures:
        if m.cents and row[m.name] is not None:
            row[m.name] = (Decimal(row[m.name]) / 100).quantize(CENT)
    return row


def _grouped_sql(
    sources: Sequence[QuerySet],
    columns: Sequence[str],
    grouping: Grouping,
    measures: Sequence[Measure],
    *,
    order: str,
    organization: Organization,
    limit: int | None,
) -> tuple[str, list]:
    union, union_params = _union(sources, columns)
    keys = ", ".join(f"src.{_q(k)}" for k in grouping.keys)
    agg_keys = ", ".join(f"agg.{_q(k)}" for k in grouping.keys)
    selected = ", ".join(f"{m.sql} AS {_q(m.name)}" for m in measures)
    names = ", ".join(f"{sql} AS {_q(name)}" for name, sql in grouping.names)
    joins, join_params = [], []
    for model, alias, on in grouping.joins:
        tenant = "organization" in {f.name for f in model._meta.fields}
        # Belt and braces: row-level security already keeps other firms out.
        firm = f" AND {alias}.organization_id = %s" if tenant else ""
        joins.append(f"LEFT JOIN {_table(model)} AS {alias} ON {on}{firm}")
        join_params.extend([organization.pk] if tenant else [])
    order_by = f"is_total DESC, {_q(order)} DESC NULLS LAST"
    sql = (
        f"SELECT agg.*, {names} FROM ("  # noqa: S608
        f"SELECT {keys}, {selected}, GROUPING({keys.split(', ')[0]}) AS is_total"
        f" FROM ({union}) AS src"
        f" GROUP BY GROUPING SETS (({keys}), ())"
        f" ORDER BY {order_by}, {keys} LIMIT %s"
        f") AS agg {' '.join(joins)}"
        f" ORDER BY agg.{order_by.replace(', ', ', agg.')}, {agg_keys}"
    )
    params = [
        *(p for m in measures for p in m.params),
        *union_params,
        limit,
        *join_params,
    ]
    return sql, params


def _grouped(
    sources: Sequence[QuerySet],
    columns: Sequence[str],
    grouping: Grouping,
    measures: Sequence[Measure],
    *,
    order: str,
    organization: Organization,
    limit: int | None = PAGE_ROWS,
) -> Grouped:
    """One query: the totals row and the `limit` largest groups by `order`."""
    sql, params = _grouped_sql(
        sources,
        columns,
        grouping,
        measures,
        order=order,
        organization=organization,
        # The totals row, the page, and one more to tell whether there are more.
        limit=None if limit is None else limit + 2,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        found = [
            _money_of(dict(zip(names, row, strict=True)), measures)
            for row in cursor.fetchall()
        ]
    total, rows = found[0], found[1:]
    more = limit is not None and len(rows) > limit
    return Grouped(total=total, rows=rows[:limit], more=more)


def _grouped_iter(
    sources: Sequence[QuerySet],
    columns: Sequence[str],
    grouping: Grouping,
    measures: Sequence[Measure],
    *,
    order: str,
    organization: Organization,
) -> Iterator[dict[str, Any]]:
    """Every group, totals row first, read in chunks (the CSV export)."""
    sql, params = _grouped_sql(
        sources,
        columns,
        grouping,
        measures,
        order=order,
        organization=organization,
        limit=None,
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        while chunk := cursor.fetchmany(2000):
            for row in chunk:
                yield _money_of(dict(zip(names, row, strict=True)), measures)


def _sum(
    name: str,
    expression: str,
    where: str = "",
    params=(),
    *,
    zero: str = "0.00",
    cents: bool = False,
) -> Measure:
    """COALESCE(SUM(expression) FILTER (WHERE where), 0.00): zero, never NULL
    (money's zero with its two places; `zero="0"` for counts of minutes and
    sums of cents)."""
    filtered = f" FILTER (WHERE {where})" if where else ""
    zero = "0" if cents else zero
    return Measure(
        name,
        f"COALESCE(SUM({expression}){filtered}, {zero})",
        tuple(params),
        cents=cents,
    )


def _in_period(qs: QuerySet, field_name: str, period: Period) -> QuerySet:
    if period.start is not None:
        qs = qs.filter(**{f"{field_name}__gte": period.start})
    if period.end is not None:
        qs = qs.filter(**{f"{field_name}__lte": period.end})
    return qs


def _cents(expression) -> Cast:
    """Money as whole cents (bigint): PostgreSQL sums bigints in 128-bit
    integers, several times faster than numerics and with a smaller state
    per group; the sums come back as Decimal money (`Measure.cents`)."""
    if isinstance(expression, str):
        expression = F(expression)
    return Cast(expression * Value(100), models.BigIntegerField())


def _time_value_cents() -> ExpressionWrapper:
    """An entry's value in cents, minutes x rate / 60 rounded half-up per entry
    as `TimeEntry.value` is (so the rows add up), in integer arithmetic:
    (minutes x rate in cents x 2 + 60) div 120."""
    rate_cents = Cast(F("rate") * Value(100), models.BigIntegerField())
    return ExpressionWrapper(
        (F("minutes") * rate_cents * Value(2) + Value(60)) / Value(120),
        output_field=models.BigIntegerField(),
    )


def _null_int() -> Cast:
    return Cast(Value(None), IntegerField())


def _net_of_discount(prefix: str = "invoice__") -> ExpressionWrapper:
    """A line's amount after its invoice's discount, the discount spread over the
    lines in proportion (a line's share of the subtotal), to the cent."""
    subtotal = F(f"{prefix}subtotal")
    return Round(
        Coalesce(
            ExpressionWrapper(
                F("amount")
                * (subtotal - F(f"{prefix}discount_amount"))
                / NullIf(subtotal, Value(ZERO)),
                output_field=MONEY,
            ),
            Value(ZERO),
        ),
        2,
        output_field=MONEY,
    )


def _signed(expression, kind: str = "invoice__kind") -> Case:
    """Negative on a credit note: it takes back what an invoice billed."""
    return Case(
        When(**{kind: InvoiceKind.CREDIT_NOTE}, then=-expression),
        default=expression,
        output_field=MONEY,
    )


# Work in progress -------------------------------------------------------------------

WIP_GROUPINGS = {g.key: g for g in (BY_CLIENT, BY_ENGAGEMENT, BY_PARTNER)}
# Named apart from the models' own fields (an annotation may not shadow one).
WIP_COLUMNS = (
    "k_client",
    "k_engagement",
    "k_partner",
    "w_day",
    "w_kind",
    "w_minutes",
    "w_cents",
)
# (name, label, oldest age in days, youngest): the entry's age is today - its date.
WIP_AGES = (
    ("age_0_30", "0–30 days", None, 0),
    ("age_31_60", "31–60 days", 60, 31),
    ("age_61_90", "61–90 days", 90, 61),
    ("age_over_90", "Over 90 days", None, 91),
)


def _age_measures(
    ages, today: date, column: str, value: str, *, cents: bool = False
) -> list[Measure]:
    """One sum per age band of `column` (a date): the first band also takes
    future dates, the last everything older."""
    measures = []
    for i, (name, _, oldest, youngest) in enumerate(ages):
        if i == 0:
            where, params = f"{column} > %s", (today - timedelta(days=ages[1][3]),)
        elif oldest is None:
            where, params = f"{column} <= %s", (today - timedelta(days=youngest),)
        else:
            where = f"{column} <= %s AND {column} >= %s"
            params = (
                today - timedelta(days=youngest),
                today - timedelta(days=oldest),
            )
        measures.append(_sum(name, value, where, params, cents=cents))
    return measures


def _wip_sources(scope: ReportScope, period: Period, grouping: Grouping):
    partner = grouping is BY_PARTNER
    time = (
        _in_period(
            scope.limit(TimeEntry.objects.filter(billable=True, invoice_line=None)),
            "date",
            period,
        )
        .annotate(
            k_client=F("client_id"),
            k_engagement=F("engagement_id"),
            k_partner=F("client__partner_id") if partner else _null_int(),
            w_day=F("date"),
            w_kind=Value("time"),
            w_minutes=F("minutes"),
            w_cents=_time_value_cents(),
        )
        .values(*WIP_COLUMNS)
    )
    if grouping is BY_ENGAGEMENT:
        # A line may name an engagement of its own: the lines, one by one.
        drafts = (
            _in_period(
                scope.limit(
                    InvoiceLine.objects.filter(
                        invoice__status=InvoiceStatus.DRAFT,
                        invoice__kind=InvoiceKind.INVOICE,
                    ),
                    client="invoice__client",
                ).annotate(w_day=TruncDate("invoice__created_at", tzinfo=scope.tz)),
                "w_day",
                period,
            )
            .annotate(
                k_client=F("invoice__client_id"),
                k_engagement=Coalesce("engagement_id", "invoice__engagement_id"),
                k_partner=_null_int(),
                w_kind=Value("draft"),
                w_minutes=Value(0),
                w_cents=_cents("amount"),
            )
            .values(*WIP_COLUMNS)
        )
    else:
        # By client or partner the draft's subtotal (the sum of its lines, kept
        # by invoice_recompute) will do: the firm's few drafts, not a join of
        # every invoice line to find theirs.
        drafts = (
            _in_period(
                scope.limit(
                    Invoice.objects.filter(
                        status=InvoiceStatus.DRAFT, kind=InvoiceKind.INVOICE
                    )
                ).annotate(w_day=TruncDate("created_at", tzinfo=scope.tz)),
                "w_day",
                period,
            )
            .annotate(
                k_client=F("client_id"),
                k_engagement=F("engagement_id"),
                k_partner=F("client__partner_id") if partner else _null_int(),
                w_kind=Value("draft"),
                w_minutes=Value(0),
                w_cents=_cents("subtotal"),
            )
            .values(*WIP_COLUMNS)
        )
    return [time, drafts]


def _wip_measures(today: date) -> list[Measure]:
    return [
        _sum("time", "w_cents", "w_kind = 'time'", cents=True),
        _sum("drafts", "w_cents", "w_kind = 'draft'", cents=True),
        _sum("minutes", "w_minutes", zero="0"),
        *_age_measures(WIP_AGES, today, "w_day", "w_cents", cents=True),
        _sum("total", "w_cents", cents=True),
    ]


def wip_report(
    scope: ReportScope,
    period: Period,
    grouping: Grouping,
    *,
    limit=PAGE_ROWS,
    summaries: bool = True,
) -> Grouped:
    """Work in progress by client, engagement or partner: one query, or two from
    the summaries (`summaries=False`: always from the entries themselves)."""
    measures = _wip_measures(scope.today)
    if summaries and _summaries_answer(scope, period) and grouping is not BY_ENGAGEMENT:
        return _wip_from_summaries(scope, period, grouping, measures, limit)
    return _grouped(
        _wip_sources(scope, period, grouping),
        WIP_COLUMNS,
        grouping,
        measures,
        order="total",
        organization=scope.organization,
        limit=limit,
    )


def _summaries_answer(scope: ReportScope, period: Period) -> bool:
    """The summaries (billing.models.ClientBalance, MoneyDay) hold the whole
    firm's figures for all time: the reports' default view and the dashboard.
    A member limited to some clients, or a period, reads the rows themselves
    (fewer of them)."""
    return scope.clients is None and period.start is None and period.end is None


def _wip_days(scope: ReportScope, partner: bool) -> QuerySet:
    """The firm's unbilled time and drafts by day (and partner), as WIP's rows."""
    return (
        MoneyDay.objects.filter(
            organization=scope.organization,
            kind__in=(MoneyDay.Kind.UNBILLED, MoneyDay.Kind.DRAFT),
            count__gt=0,  # a day whose time was all billed since: nothing
        )
        .order_by()
        .annotate(
            k_client=_null_int(),
            k_engagement=_null_int(),
            k_partner=NullIf(F("partner_key"), Value(0)) if partner else _null_int(),
            w_day=F("day"),
            w_kind=Case(
                When(kind=MoneyDay.Kind.DRAFT, then=Value("draft")),
                default=Value("time"),
            ),
            w_minutes=F("minutes"),
            w_cents=F("cents"),
        )
        .values(*WIP_COLUMNS)
    )


def _wip_from_summaries(scope, period, grouping, measures, limit) -> Grouped:
    """By partner: the partners' days, one query. By client: the totals from
    the days; the rows from the entries and drafts of the `limit` + 1 clients
    with the most work in progress (ClientBalance's index: a client outside
    them has no more than the last of them, so cannot rank above them). The
    same figures as the entries and drafts give
    (tests/billing/test_money_summaries.py), at the cost of a firm's few
    thousand days and a page of clients, whatever the firm's size."""
    days = _wip_days(scope, grouping is BY_PARTNER)
    if grouping is BY_PARTNER or limit == 0:
        found = _grouped(
            [days],
            WIP_COLUMNS,
            grouping,
            measures,
            order="total",
            organization=scope.organization,
            limit=limit,
        )
        return found if grouping is BY_PARTNER else Grouped(total=found.total, rows=[])
    totals = _grouped(
        [days],
        WIP_COLUMNS,
        grouping,
        measures,
        order="total",
        organization=scope.organization,
        limit=0,
    )
    largest = (
        ClientBalance.objects.filter(
            Q(unbilled_entries__gt=0) | Q(draft_invoices__gt=0),
            organization=scope.organization,
        )
        .annotate(wip=F("unbilled_cents") + F("draft_cents"))
        .order_by("-wip", "client_id")
        .values("client_id")[: limit + 1]
    )
    found = _grouped(
        [
            source.filter(client_id__in=largest)
            for source in _wip_sources(scope, period, grouping)
        ],
        WIP_COLUMNS,
        grouping,
        measures,
        order="total",
        organization=scope.organization,
        limit=limit,
    )
    return Grouped(total=totals.total, rows=found.rows, more=found.more)


def wip_rows(scope: ReportScope, period: Period, grouping: Grouping):
    return _grouped_iter(
        _wip_sources(scope, period, grouping),
        WIP_COLUMNS,
        grouping,
        _wip_measures(scope.today),
        order="total",
        organization=scope.organization,
    )


# Receivables ageing ------------------------------------------------------------------

AR_COLUMNS = ("k_client", "due", "balance_cents", "n")
# (name, label, most days past due, fewest); current: not yet due.
AR_AGES = (
    ("current", "Current", None, None),
    ("days_1_30", "1–30 days", 30, 1),
    ("days_31_60", "31–60 days", 60, 31),
    ("days_61_90", "61–90 days", 90, 61),
    ("days_over_90", "Over 90 days", None, 91),
)


def _ar_sources(scope: ReportScope, period: Period) -> list[QuerySet]:
    return [
        _in_period(
            scope.limit(
                Invoice.objects.filter(
                    kind=InvoiceKind.INVOICE, status__in=OPEN_INVOICE_STATUSES
                )
            ),
            "issue_date",
            period,
        )
        .annotate(
            k_client=F("client_id"),
            due=Coalesce("due_date", "issue_date"),
            balance_cents=_cents(
                ExpressionWrapper(
                    F("total") - F("amount_credited") - F("amount_paid"),
                    output_field=MONEY,
                )
            ),
            n=Value(1),
        )
        .values(*AR_COLUMNS)
    ]


def _ar_measures(today: date) -> list[Measure]:
    balance = "balance_cents"
    measures = [
        _sum("current", balance, "due >= %s OR due IS NULL", (today,), cents=True)
    ]
    for name, _, most, fewest in AR_AGES[1:]:
        if most is None:
            where, params = "due <= %s", (today - timedelta(days=fewest),)
        else:
            where = "due <= %s AND due >= %s"
            params = (today - timedelta(days=fewest), today - timedelta(days=most))
        measures.append(_sum(name, balance, where, params, cents=True))
    return [
        *measures,
        _sum("total", balance, cents=True),
        _sum("invoices", "n", zero="0"),
    ]


def ar_ageing_report(
    scope: ReportScope, period: Period, *, limit=PAGE_ROWS, summaries: bool = True
) -> Grouped:
    """What each client owes, by days past due: one query, or two from the
    summaries (`summaries=False`: always from the invoices themselves)."""
    measures = _ar_measures(scope.today)
    sources = _ar_sources(scope, period)
    if not (summaries and _summaries_answer(scope, period)):
        return _grouped(
            sources,
            AR_COLUMNS,
            BY_CLIENT,
            measures,
            order="total",
            organization=scope.organization,
            limit=limit,
        )
    # The totals from the firm's due days; the rows from the open invoices of
    # the `limit` + 1 clients owing most (ClientBalance's index): as WIP's.
    due_days = (
        MoneyDay.objects.filter(
            organization=scope.organization, kind=MoneyDay.Kind.DUE, count__gt=0
        )
        .order_by()
        .annotate(
            k_client=_null_int(),
            due=F("day"),
            balance_cents=F("cents"),
            n=F("count"),
        )
        .values(*AR_COLUMNS)
    )
    totals = _grouped(
        [due_days],
        AR_COLUMNS,
        BY_CLIENT,
        measures,
        order="total",
        organization=scope.organization,
        limit=0,
    )
    if limit == 0:
        return Grouped(total=totals.total, rows=[])
    largest = (
        ClientBalance.objects.filter(
            organization=scope.organization, open_invoices__gt=0
        )
        .order_by("-open_cents", "client_id")
        .values("client_id")[: limit + 1]
    )
    found = _grouped(
        [source.filter(client_id__in=largest) for source in sources],
        AR_COLUMNS,
        BY_CLIENT,
        measures,
        order="total",
        organization=scope.organization,
        limit=limit,
    )
    return Grouped(total=totals.total, rows=found.rows, more=found.more)


def ar_ageing_rows(scope: ReportScope, period: Period):
    return _grouped_iter(
        _ar_sources(scope, period),
        AR_COLUMNS,
        BY_CLIENT,
        _ar_measures(scope.today),
        order="total",
        organization=scope.organization,
    )


# Realization ------------------------------------------------------------------------

REALIZATION_GROUPINGS = {g.key: g for g in (BY_PARTNER, BY_CLIENT)}
REALIZATION_COLUMNS = (
    "k_client",
    "k_partner",
    "standard",
    "billed",
    "owed",
    "collected",
)


def _per_invoice_sum(qs: QuerySet, link: str, expression) -> Coalesce:
    """The sum of `expression` over `qs`'s rows of the outer invoice (`link`)."""
    return Coalesce(
        Subquery(
            qs.filter(**{link: OuterRef("pk")})
            .order_by()
            .values(link)
            .annotate(s=Sum(expression))
            .values("s"),
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def _realization_sources(scope: ReportScope, period: Period) -> list[QuerySet]:
    org = scope.organization
    credit_notes = Invoice.objects.filter(
        organization=org, kind=InvoiceKind.CREDIT_NOTE
    ).exclude(status__in=NOT_ISSUED)
    payments = Payment.objects.filter(organization=org, status=PaymentStatus.SUCCEEDED)
    return [
        _in_period(
            scope.limit(Invoice.objects.filter(kind=InvoiceKind.INVOICE)).exclude(
                status__in=NOT_ISSUED
            ),
            "issue_date",
            period,
        )
        .annotate(
            k_client=F("client_id"),
            k_partner=F("client__partner_id"),
            standard=_per_invoice_sum(
                InvoiceLine.objects.filter(organization=org),
                "invoice",
                "standard_amount",
            ),
            billed=ExpressionWrapper(
                F("subtotal")
                - F("discount_amount")
                - _per_invoice_sum(
                    credit_notes,
                    "credited_invoice",
                    F("subtotal") - F("discount_amount"),
                ),
                output_field=MONEY,
            ),
            owed=ExpressionWrapper(
                F("total") - F("amount_credited"), output_field=MONEY
            ),
            collected=_per_invoice_sum(
                payments, "invoice", F("amount") - F("amount_refunded")
            ),
        )
        .values(*REALIZATION_COLUMNS)
    ]


REALIZATION_MEASURES = [
    _sum("standard", "standard"),
    _sum("billed", "billed"),
    _sum("owed", "owed"),
    _sum("collected", "collected"),
    Measure("invoices", "count(*)"),
]


def realization_report(
    scope: ReportScope, period: Period, grouping: Grouping, *, limit=PAGE_ROWS
) -> Grouped:
    """Billed against standard value, collected against billed (one query)."""
    return _grouped(
        _realization_sources(scope, period),
        REALIZATION_COLUMNS,
        grouping,
        REALIZATION_MEASURES,
        order="billed",
        organization=scope.organization,
        limit=limit,
    )


def realization_rows(scope: ReportScope, period: Period, grouping: Grouping):
    return _grouped_iter(
        _realization_sources(scope, period),
        REALIZATION_COLUMNS,
        grouping,
        REALIZATION_MEASURES,
        order="billed",
        organization=scope.organization,
    )


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage to one place; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


# Revenue ------------------------------------------------------------------------------

REVENUE_COLUMNS = ("k_partner", "k_service", "month", "value")
NO_SERVICE = ""  # a line of no engagement: "No engagement type"


def _revenue_sources(scope: ReportScope, period: Period) -> list[QuerySet]:
    return [
        _in_period(
            scope.limit(InvoiceLine.objects.all(), client="invoice__client").exclude(
                invoice__status__in=NOT_ISSUED
            ),
            "invoice__issue_date",
            period,
        )
        .annotate(
            k_partner=F("invoice__client__partner_id"),
            k_service=Coalesce(
                "engagement__engagement_type",
                "invoice__engagement__engagement_type",
                Value(NO_SERVICE),
            ),
            # DATE_TRUNC answers a timestamp; the months are dates.
            month=Cast(TruncMonth("invoice__issue_date"), models.DateField()),
            value=_signed(_net_of_discount()),
        )
        .values(*REVENUE_COLUMNS)
    ]


@dataclass
class RevenueCell:
    key: Any  # a partner's user id (None: no partner) or a service type
    month: date | None  # None: the whole period
    revenue: Decimal


@dataclass
class Revenue:
    by_partner: list[RevenueCell] = field(default_factory=list)
    by_service: list[RevenueCell] = field(default_factory=list)
    by_month: list[RevenueCell] = field(default_factory=list)
    total: Decimal = ZERO
    partner_names: dict[int | None, str] = field(default_factory=dict)


def revenue_report(scope: ReportScope, period: Period) -> Revenue:
    """Revenue by partner and month, by service type and month, by month, and in
    all (one query: four grouping sets)."""
    union, params = _union(_revenue_sources(scope, period), REVENUE_COLUMNS)
    sets = (
        "(k_partner, month), (k_partner), (k_service, month), (k_service), (month), ()"
    )
    sql = (
        "SELECT agg.*, u.name AS partner_name, u.email AS partner_email FROM ("  # noqa: S608
        "SELECT k_partner, k_service, month, SUM(value) AS revenue,"
        " GROUPING(k_partner) AS no_partner, GROUPING(k_service) AS no_service,"
        " GROUPING(month) AS no_month"
        f" FROM ({union}) AS src GROUP BY GROUPING SETS ({sets})"
        f") AS agg LEFT JOIN {_table(User)} AS u ON u.id = agg.k_partner"
    )
    report = Revenue()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        month = None if row["no_month"] else row["month"]
        if not row["no_partner"]:
            cell = RevenueCell(row["k_partner"], month, row["revenue"])
            report.by_partner.append(cell)
            report.partner_names[row["k_partner"]] = (
                row["partner_name"] or row["partner_email"] or "No partner"
            )
        elif not row["no_service"]:
            report.by_service.append(
                RevenueCell(row["k_service"], month, row["revenue"])
            )
        elif month is not None:
            report.by_month.append(RevenueCell(None, month, row["revenue"]))
        else:
            report.total = row["revenue"] or ZERO
    return report


def revenue_rows(scope: ReportScope, period: Period) -> Iterator[dict[str, Any]]:
    """Every (partner or service type, month) cell with revenue, for the CSV."""
    report = revenue_report(scope, period)
    for cell in sorted(report.by_partner, key=_cell_order):
        if cell.month is not None:
            yield {
                "dimension": "partner",
                "name": report.partner_names.get(cell.key) or "No partner",
                "month": cell.month,
                "revenue": cell.revenue,
            }
    for cell in sorted(report.by_service, key=_cell_order):
        if cell.month is not None:
            yield {
                "dimension": "service type",
                "name": service_label(cell.key),
                "month": cell.month,
                "revenue": cell.revenue,
            }


def _cell_order(cell: RevenueCell) -> tuple:
    return (str(cell.key), cell.month or date.min)


def service_label(value: str) -> str:
    if not value:
        return "No engagement type"
    return EngagementType(value).label if value in EngagementType.values else value


# Budget against actual ---------------------------------------------------------------

BUDGET_COLUMNS = (
    "k_client",
    "k_engagement",
    "budget_minutes",
    "recorded_minutes",
    "over_minutes",
    "fee",
    "billed",
    "fee_left",
)


def _budget_sources(scope: ReportScope, period: Period) -> list[QuerySet]:
    org = scope.organization
    minutes = Coalesce(
        Subquery(
            TimeEntry.objects.filter(organization=org, engagement=OuterRef("pk"))
            .order_by()
            .values("engagement")
            .annotate(s=Sum("minutes"))
            .values("s"),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    billed_lines = (
        InvoiceLine.objects.filter(organization=org)
        .exclude(invoice__status__in=NOT_ISSUED)
        .filter(
            Q(engagement=OuterRef("pk"))
            | Q(engagement=None, invoice__engagement=OuterRef("pk"))
        )
        .order_by()
        .values("organization")
        .annotate(s=Sum(_signed(_net_of_discount())))
        .values("s")
    )
    budget = ExpressionWrapper(F("budgeted_hours") * 60, output_field=MONEY)
    billed = Coalesce(
        Subquery(billed_lines, output_field=MONEY), Value(ZERO), output_field=MONEY
    )
    return [
        _in_period(
            scope.limit(
                Engagement.objects.filter(
                    Q(budgeted_hours__isnull=False) | Q(fee_amount__isnull=False)
                )
            ),
            "due_date",
            period,
        )
        .annotate(
            k_client=F("client_id"),
            k_engagement=F("pk"),
            budget_minutes=budget,
            recorded_minutes=minutes,
            over_minutes=ExpressionWrapper(minutes - budget, output_field=MONEY),
            fee=F("fee_amount"),
            billed=billed,
            # None without a fixed fee: hourly work has no fee left to bill.
            fee_left=ExpressionWrapper(F("fee_amount") - billed, output_field=MONEY),
        )
        .values(*BUDGET_COLUMNS)
    ]


BUDGET_MEASURES = [
    # SUM of NULLs is NULL: an engagement without an hours budget has none.
    Measure("budget_minutes", "SUM(budget_minutes)"),
    _sum("recorded_minutes", "recorded_minutes", zero="0"),
    Measure("over_minutes", "SUM(over_minutes)"),
    Measure("fee", "SUM(fee)"),
    _sum("billed", "billed"),
    Measure("fee_left", "SUM(fee_left)"),
]


def budget_report(scope: ReportScope, period: Period, *, limit=PAGE_ROWS) -> Grouped:
    """Each engagement's hours and fee against its budget, furthest over first."""
    return _grouped(
        _budget_sources(scope, period),
        BUDGET_COLUMNS,
        BY_ENGAGEMENT,
        BUDGET_MEASURES,
        order="over_minutes",
        organization=scope.organization,
        limit=limit,
    )


def budget_rows(scope: ReportScope, period: Period):
    return _grouped_iter(
        _budget_sources(scope, period),
        BUDGET_COLUMNS,
        BY_ENGAGEMENT,
        BUDGET_MEASURES,
        order="over_minutes",
        organization=scope.organization,
    )


# Firm-wide totals (the dashboard) ------------------------------------------------------

ALL_TIME = Period("all", None, None)


def ar_ageing_totals(scope: ReportScope) -> dict[str, Any]:
    """What the firm (or the member's share) is owed, by days past due, all time:
    the receivables report's totals row (keys as `AR_AGES`, `total`, `invoices`)."""
    return ar_ageing_report(scope, ALL_TIME, limit=0).total


def wip_totals(scope: ReportScope) -> dict[str, Any]:
    """Unbilled work, all time: the work-in-progress report's totals row (keys
    `time`, `drafts`, `minutes`, the `WIP_AGES` bands and `total`)."""
    return wip_report(scope, ALL_TIME, BY_CLIENT, limit=0).total
