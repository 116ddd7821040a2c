"""Bulk invoices and time for the benchmark: a big firm's year of billing, fast.

`seed_billing` tops a bench firm up to as many invoices as it has clients
(100,000 in bench-100k, 1,000 in bench-1k) and ten time entries a client
(1,000,000 and 10,000), spread as a working firm's would be:

- invoices issued over the last year (a few drafts from the last weeks, 2%
  void), 30 days' terms; the older an invoice, the likelier it is paid: what is
  not yet due is mostly sent or viewed, what is 1-90 days past due is paid six
  times in ten, and only one in twelve of the older ones is still open (overdue
  or partly paid). About a fifth of the invoices are open, as a firm's AR is;
- each invoice's lines: mostly the time of the weeks before it (7-15 entries,
  billed at 85-105% of their standard value: write-downs and a few write-ups),
  often a fixed fee too; 5% carry a discount; one open invoice in 25 has a
  credit note for part of it;
- payments (check, card, ACH) for what is paid, a few refunded in part;
- the rest of the entries are the last three months' work not yet billed, two
  thirds of them billable: the firm's work in progress, about a tenth of the
  entries;
- rates by role (partners 300, managers 200, staff 125 an hour), minutes in
  6-minute increments.

Rows go in through `bench.harness.copy_rows` (COPY, then INSERT ... SELECT under
row-level security) in chunks of CHUNK invoices with their lines, entries and
payments, each chunk in its own transaction, so an interrupted run keeps what
it added and the next one tops up the rest. A seeded random generator makes
every run build the same firm. Numbers follow the firm's counters
(BillingSettings), which are moved past them at the end.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Membership, Organization, Role
from bench.harness import copy_rows, reserve_ids
from billing.models import (
    OPEN_INVOICE_STATUSES,
    BillingSettings,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    MemberRate,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    TimeEntry,
    money,
)
from clients.models import Client, Engagement

CHUNK = 5_000  # invoices a transaction (with about 50,000 entries)
ENTRY_CHUNK = 50_000  # unbilled entries a transaction
ENTRIES_PER_CLIENT = 10
TERMS_DAYS = 30
RATES = {
    Role.OWNER: Decimal("300.00"),
    Role.ADMIN: Decimal("300.00"),
    Role.MANAGER: Decimal("200.00"),
    Role.STAFF: Decimal("125.00"),
}
COST_SHARE = Decimal("0.4")
DESCRIPTIONS = (
    "Tax return preparation",
    "Bookkeeping",
    "Client call",
    "Review of workpapers",
    "Payroll filings",
    "Year-end adjustments",
    "Advisory meeting",
)
FEES = (Decimal("250.00"), Decimal("500.00"), Decimal("750.00"), Decimal("1500.00"))

INVOICE_COLUMNS = (
    "id",
    "organization_id",
    "created_at",
    "kind",
    "client_id",
    "engagement_id",
    "number",
    "status",
    "issue_date",
    "due_date",
    "discount_percent",
    "subtotal",
    "discount_amount",
    "total",
    "amount_paid",
    "amount_credited",
    "credited_invoice_id",
    "issued_at",
    "paid_at",
    "voided_at",
)
LINE_COLUMNS = (
    "id",
    "organization_id",
    "created_at",
    "invoice_id",
    "position",
    "kind",
    "description",
    "engagement_id",
    "quantity",
    "unit_price",
    "amount",
    "standard_amount",
)
ENTRY_COLUMNS = (
    "organization_id",
    "created_at",
    "user_id",
    "client_id",
    "engagement_id",
    "date",
    "minutes",
    "recorded_minutes",
    "description",
    "billable",
    "rate",
    "cost_rate",
    "invoice_line_id",
)
PAYMENT_COLUMNS = (
    "id",
    "organization_id",
    "created_at",
    "invoice_id",
    "client_id",
    "amount",
    "currency",
    "method",
    "status",
    "received_on",
    "amount_refunded",
)
REFUND_COLUMNS = ("organization_id", "created_at", "payment_id", "amount", "reason")


@dataclass
class SeedResult:
    invoices: int = 0
    credit_notes: int = 0
    lines: int = 0
    entries: int = 0
    payments: int = 0
    seconds: float = 0.0


@dataclass
class _Firm:
    organization: Organization
    rng: random.Random
    today: date
    clients: list[int]
    engagements: dict[int, list[int]]  # client -> its engagements
    people: list[tuple[int, Decimal]]  # (user, hourly rate)
    next_number: dict[str, int]


@dataclass
class _Chunk:
    invoices: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)
    refunds: list[tuple] = field(default_factory=list)
    credit_notes: int = 0


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in the working hours of `day` (UTC, good enough for a bench)."""
    return datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(13, 22),
        rng.randint(0, 59),
        tzinfo=UTC,
    )


def _firm(organization: Organization, rng: random.Random) -> _Firm:
    members = list(
        Membership.objects.filter(organization=organization, is_active=True)
        .exclude(role=Role.READONLY)
        .values_list("pk", "user_id", "role")
    )
    if not members:
        raise ValueError(f"{organization.slug} has no members to record time.")
    have = set(
        MemberRate.objects.filter(organization=organization).values_list(
            "membership_id", flat=True
        )
    )
    MemberRate.objects.bulk_create(
        MemberRate(
            organization=organization,
            membership_id=pk,
            billing_rate=RATES[role],
            cost_rate=money(RATES[role] * COST_SHARE),
        )
        for pk, _, role in members
        if pk not in have
    )
    clients = list(
        Client.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not clients:
        raise ValueError(f"{organization.slug} has no clients to bill.")
    engagements: dict[int, list[int]] = {}
    for pk, client_id in Engagement.objects.filter(
        organization=organization
    ).values_list("pk", "client_id"):
        engagements.setdefault(client_id, []).append(pk)
    settings, _ = BillingSettings.objects.get_or_create(organization=organization)
    numbers = dict(
        Invoice.objects.filter(organization=organization, number__isnull=False)
        .values("kind")
        .annotate(top=Max("number"))
        .values_list("kind", "top")
    )
    return _Firm(
        organization=organization,
        rng=rng,
        today=firm_today(organization),
        clients=clients,
        engagements=engagements,
        people=[(user_id, RATES[role]) for _, user_id, role in members],
        next_number={
            InvoiceKind.INVOICE: max(
                numbers.get(InvoiceKind.INVOICE, 0) + 1, settings.next_invoice_number
            ),
            InvoiceKind.CREDIT_NOTE: max(
                numbers.get(InvoiceKind.CREDIT_NOTE, 0) + 1,
                settings.next_credit_note_number,
            ),
        },
    )


def _number(f: _Firm, kind: str) -> int:
    number = f.next_number[kind]
    f.next_number[kind] = number + 1
    return number


def _entry(
    f: _Firm,
    client_id: int,
    engagement_id: int | None,
    day: date,
    *,
    billable: bool = True,
    line_id: int | None = None,
) -> tuple[tuple, Decimal]:
    """One time entry's row, and its value at standard rate."""
    r = f.rng
    user_id, rate = r.choice(f.people)
    minutes = 6 * r.randint(1, 40)
    row = (
        f.organization.pk,
        _at(day, r),
        user_id,
        client_id,
        engagement_id,
        day,
        minutes,
        minutes - r.randint(0, 5),
        r.choice(DESCRIPTIONS),
        billable,
        rate,
        money(rate * COST_SHARE),
        line_id,
    )
    return row, money(Decimal(minutes) * rate / 60)


def _status(f: _Firm, issue: date, due: date) -> str:
    r, past_due = f.rng, (f.today - due).days
    roll = r.random()
    if past_due <= 0:
        return (
            InvoiceStatus.SENT
            if roll < 0.45
            else InvoiceStatus.VIEWED
            if roll < 0.8
            else InvoiceStatus.PARTIAL
            if roll < 0.9
            else InvoiceStatus.PAID
        )
    if past_due <= 90:
        return (
            InvoiceStatus.PAID
            if roll < 0.6
            else InvoiceStatus.PARTIAL
            if roll < 0.7
            else InvoiceStatus.OVERDUE
        )
    return (
        InvoiceStatus.PAID
        if roll < 0.92
        else InvoiceStatus.OVERDUE
        if roll < 0.98
        else InvoiceStatus.PARTIAL
    )


def _invoice(f: _Firm, chunk: _Chunk, invoice_id: int, line_ids: list[int]) -> dict:
    """One invoice with its lines, billed entries and payments; returns what a
    credit note needs to know of it."""
    r, org = f.rng, f.organization.pk
    client_id = r.choice(f.clients)
    engagements = f.engagements.get(client_id, [])
    engagement_id = r.choice(engagements) if engagements and r.random() < 0.8 else None
    roll = r.random()
    if roll < 0.02:  # a draft of the last weeks, not yet issued
        status, issue = InvoiceStatus.DRAFT, None
        created_day = f.today - timedelta(days=r.randint(0, 20))
    else:
        issue = f.today - timedelta(days=r.randint(0, 364))
        created_day = issue - timedelta(days=r.randint(0, 3))
        due = issue + timedelta(days=TERMS_DAYS)
        status = InvoiceStatus.VOID if roll < 0.04 else _status(f, issue, due)
    created = _at(created_day, r)
    lines, subtotal, position = [], Decimal("0.00"), 0
    work_day = issue or f.today
    if r.random() < 0.85:  # the weeks of time before it
        line_id = line_ids[position]
        standard = Decimal("0.00")
        for _ in range(r.randint(7, 15)):
            day = work_day - timedelta(days=r.randint(1, 45))
            # A void invoice gave its time back: its entries are not made here
            # (the unbilled work topped up at the end stands in for them).
            row, value = _entry(
                f,
                client_id,
                engagement_id,
                day,
                line_id=None if status == InvoiceStatus.VOID else line_id,
            )
            if status != InvoiceStatus.VOID:
                chunk.entries.append(row)
            standard += value
        amount = money(
            standard * Decimal(r.choice((85, 90, 95, 100, 100, 100, 105))) / 100
        )
        lines.append(
            (line_id, LineKind.TIME, "Professional services", amount, standard)
        )
        subtotal += amount
        position += 1
    if position == 0 or r.random() < 0.4:
        fee = r.choice(FEES)
        lines.append((line_ids[position], LineKind.FEE, "Fixed fee", fee, fee))
        subtotal += fee
        position += 1
    discount_percent = Decimal("10.00") if r.random() < 0.05 else Decimal("0.00")
    discount = money(subtotal * discount_percent / 100)
    total = subtotal - discount
    paid = Decimal("0.00")
    if status == InvoiceStatus.PAID:
        paid = total
    elif status == InvoiceStatus.PARTIAL:
        paid = money(total * Decimal(r.randint(20, 80)) / 100)
    issued_at = _at(issue, r) if issue else None
    paid_at = None
    if paid:
        received = min(f.today, issue + timedelta(days=r.randint(3, 60)))
        paid_at = _at(received, r) if status == InvoiceStatus.PAID else None
        refunded = Decimal("0.00")
        payment_id = reserve_ids(Payment, 1)[0] if r.random() < 0.005 else None
        if payment_id is not None:  # a part given back: the invoice is paid less
            refunded = money(paid * Decimal("0.1"))
            chunk.refunds.append(
                (org, _at(received, r), payment_id, refunded, "Goodwill")
            )
        chunk.payments.append(
            (
                payment_id,
                org,
                _at(received, r),
                invoice_id,
                client_id,
                paid,
                "USD",
                r.choice(
                    (
                        PaymentMethod.CHECK,
                        PaymentMethod.CARD,
                        PaymentMethod.US_BANK_ACCOUNT,
                    )
                ),
                PaymentStatus.SUCCEEDED,
                received,
                refunded,
            )
        )
        paid -= refunded
        if refunded and status == InvoiceStatus.PAID:  # owed again, in part
            status, paid_at = InvoiceStatus.PARTIAL, None
    chunk.invoices.append(
        [
            invoice_id,
            org,
            created,
            InvoiceKind.INVOICE,
            client_id,
            engagement_id,
            None if status == InvoiceStatus.DRAFT else _number(f, InvoiceKind.INVOICE),
            status,
            issue,
            issue + timedelta(days=TERMS_DAYS) if issue else None,
            discount_percent,
            subtotal,
            discount,
            total,
            paid,
            Decimal("0.00"),
            None,
            issued_at,
            paid_at,
            _at(min(f.today, issue + timedelta(days=5)), r)
            if status == InvoiceStatus.VOID
            else None,
        ]
    )
    for position, (line_id, kind, description, amount, standard) in enumerate(lines):
        chunk.lines.append(
            (
                line_id,
                org,
                created,
                invoice_id,
                position,
                kind,
                description,
                engagement_id,
                Decimal("1.00"),
                amount,
                amount,
                standard,
            )
        )
    return {
        "row": chunk.invoices[-1],
        "client": client_id,
        "engagement": engagement_id,
        "status": status,
        "issue": issue,
        "total": total,
    }


def _credit_note(
    f: _Firm, chunk: _Chunk, credited: dict, note_id: int, line_id: int
) -> bool:
    """A credit note for part of an open invoice, credited on it (never more
    than its balance); False when nothing is left to credit."""
    r, org = f.rng, f.organization.pk
    row = credited["row"]
    balance = row[13] - row[14] - row[15]  # total - paid - credited
    amount = min(
        balance, money(credited["total"] * Decimal(r.choice((10, 20, 30))) / 100)
    )
    if amount <= 0:
        return False
    issue = min(f.today, credited["issue"] + timedelta(days=r.randint(5, 40)))
    created = _at(issue, r)
    row[15] += amount  # amount_credited
    chunk.invoices.append(
        [
            note_id,
            org,
            created,
            InvoiceKind.CREDIT_NOTE,
            credited["client"],
            credited["engagement"],
            _number(f, InvoiceKind.CREDIT_NOTE),
            InvoiceStatus.SENT,
            issue,
            issue,
            Decimal("0.00"),
            amount,
            Decimal("0.00"),
            amount,
            Decimal("0.00"),
            Decimal("0.00"),
            row[0],
            created,
            None,
            None,
        ]
    )
    chunk.lines.append(
        (
            line_id,
            org,
            created,
            note_id,
            0,
            LineKind.CREDIT,
            "Credit",
            credited["engagement"],
            Decimal("1.00"),
            amount,
            amount,
            Decimal("0.00"),
        )
    )
    chunk.credit_notes += 1
    return True


def _chunk(f: _Firm, count: int) -> _Chunk:
    chunk = _Chunk()
    # Ids to spare: a credit note not made (nothing left to credit) and a line
    # not used leave gaps in the sequences, as rolled-back inserts do.
    invoice_ids = iter(reserve_ids(Invoice, count + count // 10 + 1))
    line_ids = iter(reserve_ids(InvoiceLine, 2 * count + count // 10 + 1))
    made = 0
    while made < count:
        invoice_id = next(invoice_ids)
        made += 1
        credited = _invoice(f, chunk, invoice_id, [next(line_ids), next(line_ids)])
        is_open = credited["status"] in OPEN_INVOICE_STATUSES
        if (
            is_open
            and made < count
            and f.rng.random() < 0.04
            and _credit_note(f, chunk, credited, next(invoice_ids), next(line_ids))
        ):
            made += 1
    return chunk


def _unbilled(f: _Firm, count: int) -> list[tuple]:
    """The last three months' work not yet billed: two thirds billable."""
    r, rows = f.rng, []
    for _ in range(count):
        client_id = r.choice(f.clients)
        engagements = f.engagements.get(client_id, [])
        engagement_id = (
            r.choice(engagements) if engagements and r.random() < 0.8 else None
        )
        day = f.today - timedelta(days=int(r.triangular(0, 120, 0)))
        row, _ = _entry(f, client_id, engagement_id, day, billable=r.random() < 0.66)
        rows.append(row)
    return rows


def _insert(chunk: _Chunk, result: SeedResult) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
    # The credit notes point at invoices of the same batch: invoices first.
    invoices = sorted(chunk.invoices, key=lambda row: row[16] is not None)
    copy_rows(Invoice, INVOICE_COLUMNS, invoices)
    result.lines += copy_rows(InvoiceLine, LINE_COLUMNS, chunk.lines)
    result.entries += copy_rows(TimeEntry, ENTRY_COLUMNS, chunk.entries)
    payments = [row for row in chunk.payments if row[0] is not None]
    result.payments += copy_rows(Payment, PAYMENT_COLUMNS, payments)
    result.payments += copy_rows(
        Payment,
        PAYMENT_COLUMNS[1:],
        [row[1:] for row in chunk.payments if row[0] is None],
    )
    copy_rows(Refund, REFUND_COLUMNS, chunk.refunds)
    result.invoices += len(chunk.invoices) - chunk.credit_notes
    result.credit_notes += chunk.credit_notes


def seed_billing(
    *,
    organization: Organization,
    invoices: int,
    entries: int,
    stdout=None,
) -> SeedResult:
    """Top the firm up to `invoices` invoices (credit notes included) and
    `entries` time entries; adds nothing it already has.

    Call inside tenant_context(organization)."""
    started = time.perf_counter()
    result = SeedResult()
    have_invoices = Invoice.objects.filter(organization=organization).count()
    have_entries = TimeEntry.objects.filter(organization=organization).count()
    missing = invoices - have_invoices
    if missing <= 0 and entries <= have_entries:
        return result
    rng = random.Random(  # noqa: S311 (reproducible content, not secrets)
        f"{organization.slug}:billing:{have_invoices}:{have_entries}"
    )
    firm = _firm(organization, rng)
    for begin in range(0, max(missing, 0), CHUNK):
        chunk = _chunk(firm, min(CHUNK, missing - begin))
        with transaction.atomic():
            _insert(chunk, result)
        if stdout is not None:
            stdout.write(
                f"  {organization.slug}: {have_invoices + result.invoices:,} invoices,"
                f" {have_entries + result.entries:,} time entries"
                f" ({time.perf_counter() - started:.1f} s)"
            )
    still = entries - have_entries - result.entries
    for begin in range(0, max(still, 0), ENTRY_CHUNK):
        rows = _unbilled(firm, min(ENTRY_CHUNK, still - begin))
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            result.entries += copy_rows(TimeEntry, ENTRY_COLUMNS, rows)
        if stdout is not None:
            stdout.write(
                f"  {organization.slug}: {have_entries + result.entries:,} time entries"
                f" ({time.perf_counter() - started:.1f} s)"
            )
    BillingSettings.objects.filter(organization=organization).update(
        next_invoice_number=firm.next_number[InvoiceKind.INVOICE],
        next_credit_note_number=firm.next_number[InvoiceKind.CREDIT_NOTE],
    )
    statistics_refresh(
        [
            m._meta.db_table
            for m in (Invoice, InvoiceLine, TimeEntry, Payment, Refund, MemberRate)
        ],
        vacuum=True,
    )
    result.seconds = time.perf_counter() - started
    return result
