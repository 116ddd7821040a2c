"""Reads of the staff invoice pages: who sees which invoices, the list's filters
and pages, what is outstanding, and the status a person reads.

Invoices follow their clients: a member who sees only the clients assigned to
them (clients.selectors.sees_assigned_only) sees only those clients' invoices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.http import QueryDict
from django.utils.dateparse import parse_date

from advisoros.http import is_uuid
from advisoros.overdue import overdue_q
from advisoros.pagination import KeysetPage, keyset_page
from advisoros.tenancy.request import OrgRequest
from billing.models import (
    OPEN_INVOICE_STATUSES,
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    MoneyDay,
    money,
)
from billing.selectors import unbilled_time
from clients.selectors import sees_assigned_only, visible_clients
from clients.services.search import clients_matching

PAGE_SIZE = 50

# The list's status choices: the stored statuses, and three read from them.
STATUS_UNPAID = "unpaid"  # issued and still owed (sent, viewed, partial, overdue)
STATUS_OVERDUE = "overdue"  # owed, and its due date is before the firm's today
STATUS_CREDIT_NOTES = "credit_notes"
STATUS_CHOICES = [
    ("", "All invoices"),
    (STATUS_UNPAID, "Unpaid"),
    (STATUS_OVERDUE, "Overdue"),
    (InvoiceStatus.DRAFT, "Draft"),
    (InvoiceStatus.SENT, "Sent"),
    (InvoiceStatus.VIEWED, "Viewed"),
    (InvoiceStatus.PARTIAL, "Partially paid"),
    (InvoiceStatus.PAID, "Paid"),
    (InvoiceStatus.VOID, "Void"),
    (STATUS_CREDIT_NOTES, "Credit notes"),
]
# "INV-00042", "inv 42", "#42", "42"; "CN-7" names a credit note.
NUMBER = re.compile(
    r"^\s*(?:(?P<prefix>inv|cn)[\s-]*)?#?0*(?P<number>\d{1,9})\s*$", re.I
)
# What a list row shows: the invoice's columns and its client's name.
LIST_COLUMNS = (
    "uuid",
    "organization_id",
    "created_at",
    "kind",
    "number",
    "status",
    "currency",
    "issue_date",
    "due_date",
    "total",
    "amount_paid",
    "amount_credited",
    "client__uuid",
    "client__display_name",
    "engagement__name",
)


def visible_invoices(request: OrgRequest) -> QuerySet[Invoice]:
    """Every staff invoice page starts here: the firm's invoices of the clients
    the member may see."""
    qs = Invoice.objects.filter(organization=request.organization)
    if sees_assigned_only(request.membership):
        qs = qs.filter(client__in=visible_clients(request))
    return qs


def display_status(invoice: Invoice, today: date) -> tuple[str, str]:
    """(css key, label) of what a person reads: an open invoice past its due date
    is overdue whatever its stored status says (the reminders job may not have
    run yet today); a credit note is "issued"."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return "credit", "Credit note"
    if invoice.is_open and invoice.due_date is not None and invoice.due_date < today:
        return InvoiceStatus.OVERDUE, "Overdue"
    return invoice.status, invoice.get_status_display()


def open_balance() -> F:
    return F("total") - F("amount_credited") - F("amount_paid")


@dataclass
class InvoiceFilters:
    """The list's filters, read from (and written back to) the URL."""

    status: str = ""
    client: str = ""  # a client's uuid (from the client page)
    q: str = ""  # an invoice number, or words of a client's name
    issued_from: date | None = None
    issued_to: date | None = None
    cursor: str = ""

    PARAMS = ("status", "client", "q", "issued_from", "issued_to")

    @classmethod
    def from_query(cls, params: QueryDict) -> InvoiceFilters:
        status = params.get("status", "")
        client = params.get("client", "")
        return cls(
            status=status if status in dict(STATUS_CHOICES) else "",
            client=client if is_uuid(client) else "",
            q=params.get("q", "").strip()[:100],
            issued_from=_date(params.get("issued_from", "")),
            issued_to=_date(params.get("issued_to", "")),
            cursor=params.get("cursor", ""),
        )

    @property
    def active(self) -> bool:
        return any((self.status, self.client, self.q, self.issued_from, self.issued_to))

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (empty ones left out)."""
        values = {
            "status": self.status,
            "client": self.client,
            "q": self.q,
            "issued_from": self.issued_from.isoformat() if self.issued_from else "",
            "issued_to": self.issued_to.isoformat() if self.issued_to else "",
        }
        return {k: v for k, v in values.items() if v}


def _date(value: str) -> date | None:
    try:
        return parse_date(value.strip()) if value else None
    except ValueError:
        return None


def _number_filter(q: str) -> Q | None:
    match = NUMBER.match(q)
    if match is None:
        return None
    number = int(match["number"])
    prefix = (match["prefix"] or "").lower()
    if prefix == "cn":
        return Q(kind=InvoiceKind.CREDIT_NOTE, number=number)
    if prefix == "inv":
        return Q(kind=InvoiceKind.INVOICE, number=number)
    return Q(number=number)


def filter_invoices(
    request: OrgRequest, f: InvoiceFilters, *, today: date
) -> QuerySet[Invoice]:
    qs = visible_invoices(request)
    if f.status == STATUS_CREDIT_NOTES:
        qs = qs.filter(kind=InvoiceKind.CREDIT_NOTE)
    else:
        qs = qs.filter(kind=InvoiceKind.INVOICE)
        if f.status == STATUS_UNPAID:
            qs = qs.filter(status__in=OPEN_INVOICE_STATUSES)
        elif f.status == STATUS_OVERDUE:
            qs = qs.filter(overdue_q(today, OPEN_INVOICE_STATUSES))
        elif f.status:
            qs = qs.filter(status=f.status)
    if f.client:
        qs = qs.filter(client__uuid=f.client)
    if f.q:
        by_number = _number_filter(f.q)
        if by_number is not None:
            qs = qs.filter(by_number)
        else:
            qs = qs.filter(
                client_id__in=clients_matching(visible_clients(request), f.q).values(
                    "pk"
                )
            )
    if f.issued_from:
        qs = qs.filter(issue_date__gte=f.issued_from)
    if f.issued_to:
        qs = qs.filter(issue_date__lte=f.issued_to)
    return qs


def invoice_page(
    request: OrgRequest, f: InvoiceFilters, *, today: date, size: int = PAGE_SIZE
) -> KeysetPage:
    """One page of the list, newest first. Overdue invoices come oldest due date
    first instead (the longest owed are the ones to chase), and a range of issue
    dates in issue order. Each order has its index (billing.models.Invoice), so a
    page is a range scan at any depth of a big firm's list."""
    qs = (
        filter_invoices(request, f, today=today)
        .select_related("client", "engagement")
        .only(*LIST_COLUMNS)
    )
    if f.status == STATUS_OVERDUE:
        keys, descending = ("due_date", "id"), False
    elif f.issued_from or f.issued_to:
        keys, descending = ("issue_date", "id"), True
    else:
        keys, descending = ("created_at", "id"), True
    return keyset_page(
        qs, keys=keys, descending=descending, cursor=f.cursor or None, size=size
    )


@dataclass
class Outstanding:
    """What clients owe in one currency: all of it, and the overdue part."""

    currency: str
    amount: Decimal = ZERO
    count: int = 0
    overdue_amount: Decimal = ZERO
    overdue_count: int = 0


def outstanding(
    request: OrgRequest, *, today: date, client_uuid: str = ""
) -> list[Outstanding]:
    """The balances of the invoices still owed (and the overdue part), per
    currency: one query. For the whole firm, from its receivables by due day
    (billing_moneyday, kept by the database: a few hundred rows however many
    invoices); for one client or a member's own clients, from the open
    invoices' partial index."""
    if not client_uuid and not sees_assigned_only(request.membership):
        return _outstanding_of_firm(request, today=today)
    qs = visible_invoices(request).filter(
        kind=InvoiceKind.INVOICE, status__in=OPEN_INVOICE_STATUSES
    )
    if client_uuid:
        qs = qs.filter(client__uuid=client_uuid)
    overdue = Q(due_date__lt=today)
    rows = (
        qs.values("currency")
        .annotate(
            amount=Sum(open_balance()),
            count=Count("id"),
            overdue_amount=Sum(open_balance(), filter=overdue),
            overdue_count=Count("id", filter=overdue),
        )
        .order_by("currency")
    )
    return [
        Outstanding(
            currency=row["currency"],
            amount=row["amount"] or ZERO,
            count=row["count"],
            overdue_amount=row["overdue_amount"] or ZERO,
            overdue_count=row["overdue_count"],
        )
        for row in rows
    ]


def _outstanding_of_firm(request: OrgRequest, *, today: date) -> list[Outstanding]:
    overdue = Q(day__lt=today)  # an issued invoice's day is its due date
    rows = (
        MoneyDay.objects.filter(
            organization=request.organization, kind=MoneyDay.Kind.DUE, count__gt=0
        )
        .values("currency")
        .annotate(
            owed_cents=Sum("cents"),
            owed_count=Sum("count"),
            overdue_cents=Sum("cents", filter=overdue),
            overdue_count=Sum("count", filter=overdue),
        )
        .order_by("currency")
    )
    return [
        Outstanding(
            currency=row["currency"],
            amount=money(Decimal(row["owed_cents"]) / 100),
            count=row["owed_count"],
            overdue_amount=money(Decimal(row["overdue_cents"] or 0) / 100),
            overdue_count=row["overdue_count"] or 0,
        )
        for row in rows
    ]


@dataclass
class UnbilledSummary:
    count: int
    hours: Decimal
    value: Decimal  # at the entries' recorded rates


def unbilled_summary(*, organization_id: int, client_id: int) -> UnbilledSummary:
    """How much billable time of the client no invoice holds yet: one query."""
    totals = unbilled_time(
        organization_id=organization_id, client_id=client_id
    ).aggregate(
        entry_count=Count("id"),
        total_minutes=Sum("minutes"),
        minute_value=Sum(
            ExpressionWrapper(
                F("minutes") * F("rate"),
                output_field=DecimalField(max_digits=20, decimal_places=2),
            )
        ),
    )
    return UnbilledSummary(
        count=totals["entry_count"],
        hours=Decimal(totals["total_minutes"] or 0) / 60,
        value=money((totals["minute_value"] or ZERO) / 60),
    )
