"""Invoices: drafts built from time, fixed fees and retainers; issuing with a
gapless number; voiding; credit notes (docs/billing.md).

A draft is edited freely by staff. `invoice_issue` gives it the firm's next
number under a lock of the firm's counter row, in the same transaction that
marks it sent: a rollback gives the number back, so numbers have no gap and no
duplicate however many people issue at once. From then on the invoice is never
edited: `invoice_void` cancels one nobody paid, `credit_note_create` reduces
what is owed. `invoice_import` records one the firm issued elsewhere (its
QuickBooks company) as issued here, numbered the same way, never emailed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.models import Organization
from billing.models import (
    ZERO,
    BillingSettings,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    TimeEntry,
    money,
)
from billing.selectors import billing_settings, unbilled_time
from billing.services.common import require_biller, settle
from clients.models import Client, Engagement

HUNDRED = Decimal("100")


def _lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(
        organization_id=invoice.organization_id, pk=invoice.pk
    )


def _lock_draft(invoice: Invoice) -> Invoice:
    locked = _lock_invoice(invoice)
    if locked.status != InvoiceStatus.DRAFT:
        raise ValidationError(
            f"{locked.display_number} is issued and cannot be changed: void it, or "
            "issue a credit note."
        )
    return locked


def _next_position(invoice: Invoice) -> int:
    top = invoice.lines.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def invoice_recompute(invoice: Invoice) -> Invoice:
    """Totals of a (locked) draft from its lines. The discount applies to every
    line; the tax to the taxable lines after their share of the discount; each
    figure is rounded half-up to the cent once, here."""
    subtotal = ZERO
    taxable = ZERO
    for amount, is_taxable in invoice.lines.values_list("amount", "taxable"):
        subtotal += amount
        if is_taxable:
            taxable += amount
    rate = invoice.discount_percent / HUNDRED
    discount = money(subtotal * rate)
    taxable_after_discount = taxable - money(taxable * rate)
    tax = money(taxable_after_discount * invoice.tax_rate / HUNDRED)
    invoice.subtotal = subtotal
    invoice.discount_amount = discount
    invoice.tax_amount = tax
    invoice.total = subtotal - discount + tax
    invoice.save(
        update_fields=[
            "subtotal",
            "discount_amount",
            "tax_amount",
            "total",
            "updated_at",
        ]
    )
    return invoice


@transaction.atomic
def invoice_create(
    *,
    organization: Organization,
    client: Client,
    engagement: Engagement | None = None,
    by: User | None,
    memo: str = "",
) -> Invoice:
    """A new draft for `client` (and one of its engagements), with the firm's
    currency and tax rate."""
    require_biller(organization.pk, by)
    if client.organization_id != organization.pk:
        raise ValidationError("Choose a client of this firm.")
    if engagement is not None and engagement.client_id != client.pk:
        raise ValidationError("Choose an engagement of the invoice's client.")
    rules = billing_settings(organization)
    return Invoice.objects.create(
        organization=organization,
        client=client,
        engagement=engagement,
        currency=rules.currency,
        tax_rate=rules.tax_rate,
        memo=memo,
        created_by=by,
    )


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    by: User | None,
    memo: str | None = None,
    discount_percent: Decimal | None = None,
    tax_rate: Decimal | None = None,
    due_date: date | None = None,
) -> Invoice:
    require_biller(invoice.organization_id, by)
    draft = _lock_draft(invoice)
    if memo is not None:
        draft.memo = memo
    if discount_percent is not None:
        if not ZERO <= discount_percent <= HUNDRED:
            raise ValidationError("A discount is between 0 and 100%.")
        draft.discount_percent = discount_percent
    if tax_rate is not None:
        if not ZERO <= tax_rate <= HUNDRED:
            raise ValidationError("A tax rate is between 0 and 100%.")
        draft.tax_rate = tax_rate
    if due_date is not None:
        draft.due_date = due_date
    draft.save()
    return invoice_recompute(draft)


@transaction.atomic
def invoice_add_time(
    *,
    invoice: Invoice,
    by: User | None,
    entries: Iterable[TimeEntry] | None = None,
    group_by_engagement: bool = False,
) -> list[InvoiceLine]:
    """Put the client's unbilled billable time (or the chosen `entries` of it) on
    the draft: a line per entry, or per engagement and rate. A line bills its
    entries' minutes x their recorded rates; its quantity shows the hours."""
    require_biller(invoice.organization_id, by)
    draft = _lock_draft(invoice)
    wanted = unbilled_time(
        organization_id=draft.organization_id, client_id=draft.client_id
    ).select_related("user", "engagement")
    if entries is not None:
        wanted = wanted.filter(pk__in=[entry.pk for entry in entries])
    # Locked so two drafts cannot take the same entry.
    rows = list(wanted.select_for_update(of=("self",)))
    if not rows:
        raise ValidationError("There is no unbilled time to add.")
    groups: dict[tuple, list[TimeEntry]] = {}
    for entry in rows:
        key = (entry.engagement_id, entry.rate) if group_by_engagement else (entry.pk,)
        groups.setdefault(key, []).append(entry)
    position = _next_position(draft)
    lines = []
    for group in groups.values():
        first = group[0]
        minutes = sum(entry.minutes for entry in group)
        value = sum((entry.value for entry in group), ZERO)
        if group_by_engagement:
            what = (
                first.engagement.name if first.engagement else "Professional services"
            )
            description = f"{what}: {len(group)} time entries"
        else:
            person = first.user.get_short_name()
            description = " — ".join(
                part
                for part in (first.date.isoformat(), person, first.description)
                if part
            )
        line = InvoiceLine.objects.create(
            organization_id=draft.organization_id,
            invoice=draft,
            position=position,
            kind=LineKind.TIME,
            description=description[:500],
            engagement_id=first.engagement_id,
            quantity=(Decimal(minutes) / 60).quantize(Decimal("0.01")),
            unit_price=first.rate,
            amount=value,
            standard_amount=value,
        )
        TimeEntry.objects.filter(pk__in=[entry.pk for entry in group]).update(
            invoice_line=line
        )
        position += 1
        lines.append(line)
    invoice_recompute(draft)
    return lines


@transaction.atomic
def invoice_add_line(
    *,
    invoice: Invoice,
    by: User | None,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    kind: str = LineKind.FEE,
    taxable: bool = True,
    engagement: Engagement | None = None,
) -> InvoiceLine:
    """A fixed fee, retainer, expense or late-fee line: quantity x unit price."""
    require_biller(invoice.organization_id, by)
    draft = _lock_draft(invoice)
    if kind not in (
        LineKind.FEE,
        LineKind.RETAINER,
        LineKind.EXPENSE,
        LineKind.LATE_FEE,
    ):
        raise ValidationError("Time is added from time entries, not typed in.")
    _check_amounts(quantity, unit_price)
    if not description.strip():
        raise ValidationError("Describe the line.")
    if engagement is not None and engagement.client_id != draft.client_id:
        raise ValidationError("Choose an engagement of the invoice's client.")
    amount = money(quantity * unit_price)
    line = InvoiceLine.objects.create(
        organization_id=draft.organization_id,
        invoice=draft,
        position=_next_position(draft),
        kind=kind,
        description=description.strip(),
        engagement=engagement or draft.engagement,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        standard_amount=amount,
        taxable=taxable,
    )
    invoice_recompute(draft)
    return line


def _check_amounts(quantity: Decimal, unit_price: Decimal) -> None:
    if quantity < 0:
        raise ValidationError(
            "A quantity cannot be negative: write the line down, or issue a credit "
            "note."
        )
    if unit_price < 0:
        raise ValidationError("A price cannot be negative.")


@transaction.atomic
def invoice_line_update(
    *,
    line: InvoiceLine,
    by: User | None,
    description: str | None = None,
    quantity: Decimal | None = None,
    unit_price: Decimal | None = None,
    amount: Decimal | None = None,
    adjustment_reason: str | None = None,
    taxable: bool | None = None,
) -> InvoiceLine:
    """Change a draft's line. A time line's hours and rate come from its entries;
    what it bills (`amount`) may be written up or down against its standard
    value, which stays as it was and feeds realization."""
    require_biller(line.organization_id, by)
    draft = _lock_draft(line.invoice)
    line = InvoiceLine.objects.get(organization_id=draft.organization_id, pk=line.pk)
    if description is not None:
        if not description.strip():
            raise ValidationError("Describe the line.")
        line.description = description.strip()
    if taxable is not None:
        line.taxable = taxable
    if line.kind != LineKind.TIME and (quantity is not None or unit_price is not None):
        line.quantity = line.quantity if quantity is None else quantity
        line.unit_price = line.unit_price if unit_price is None else unit_price
        _check_amounts(line.quantity, line.unit_price)
        line.amount = money(line.quantity * line.unit_price)
        line.standard_amount = line.amount
    if amount is not None:
        if amount < 0:
            raise ValidationError(
                "A line cannot bill less than nothing: issue a credit note."
            )
        line.amount = money(amount)
    if adjustment_reason is not None:
        line.adjustment_reason = adjustment_reason.strip()
    line.save()
    invoice_recompute(draft)
    return line


@transaction.atomic
def invoice_line_remove(*, line: InvoiceLine, by: User | None) -> None:
    """Take a line off a draft; its time entries are unbilled again."""
    require_biller(line.organization_id, by)
    draft = _lock_draft(line.invoice)
    TimeEntry.objects.filter(
        organization_id=draft.organization_id, invoice_line_id=line.pk
    ).update(invoice_line=None)
    InvoiceLine.objects.filter(
        organization_id=draft.organization_id, pk=line.pk
    ).delete()
    invoice_recompute(draft)


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User | None) -> None:
    require_biller(invoice.organization_id, by)
    draft = _lock_draft(invoice)
    TimeEntry.objects.filter(
        organization_id=draft.organization_id, invoice_line__invoice=draft
    ).update(invoice_line=None)
    draft.delete()


def _take_number(organization_id: int, kind: str) -> int:
    """The next number of `kind`, under a lock of the firm's counter row held to
    the end of the caller's transaction."""
    billing_settings(organization_id)  # made first, outside the lock's concern
    rules = BillingSettings.objects.select_for_update().get(
        organization_id=organization_id
    )
    if kind == InvoiceKind.CREDIT_NOTE:
        number = rules.next_credit_note_number
        rules.next_credit_note_number = number + 1
        field = "next_credit_note_number"
    else:
        number = rules.next_invoice_number
        rules.next_invoice_number = number + 1
        field = "next_invoice_number"
    rules.save(update_fields=[field, "updated_at"])
    return number


@transaction.atomic
def invoice_issue(
    *, invoice: Invoice, by: User | None, issue_date: date | None = None
) -> Invoice:
    """Give the draft its number and send it: it is on the client's portal from
    now on and never edited again. A second click finds it issued and is told so.
    """
    require_biller(invoice.organization_id, by)
    locked = _lock_invoice(invoice)
    if locked.status != InvoiceStatus.DRAFT:
        raise ValidationError(f"{locked.display_number} is already issued.")
    if not locked.lines.exists():
        raise ValidationError("An invoice needs at least one line before it is issued.")
    if locked.total <= 0:
        raise ValidationError("An invoice for nothing cannot be issued.")
    rules = billing_settings(locked.organization_id)
    locked.number = _take_number(locked.organization_id, InvoiceKind.INVOICE)
    locked.issue_date = issue_date or firm_today(invoice.organization)
    if locked.due_date is None or locked.due_date < locked.issue_date:
        locked.due_date = locked.issue_date + timedelta(days=rules.payment_terms_days)
    locked.status = InvoiceStatus.SENT
    locked.issued_at = timezone.now()
    locked.save()
    _on_issue(locked)
    return locked


@dataclass(frozen=True)
class ImportedLine:
    """One line of an invoice issued elsewhere, its figures as they were there."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@transaction.atomic
def invoice_import(
    *,
    organization: Organization,
    client: Client,
    lines: Sequence[ImportedLine],
    total: Decimal,
    issue_date: date,
    due_date: date | None = None,
    discount_amount: Decimal = ZERO,
    tax_amount: Decimal = ZERO,
    currency: str = "",
    memo: str = "",
) -> Invoice:
    """Record an invoice the firm issued elsewhere (its QuickBooks company) as
    issued here: numbered with the firm's next number, status sent, its lines,
    discount and tax taken as they were (they must add up to `total`). Nothing
    is emailed: the client had it from where it was made."""
    if client.organization_id != organization.pk:
        raise ValidationError("Choose a client of this firm.")
    rules = billing_settings(organization)
    if currency and currency != rules.currency:
        raise ValidationError(
            f"It is in {currency} and the firm bills in {rules.currency}: record it "
            "by hand."
        )
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    for line in lines:
        _check_amounts(line.quantity, line.unit_price)
        if line.amount < 0:
            raise ValidationError("A line cannot bill less than nothing.")
    subtotal = sum((money(line.amount) for line in lines), ZERO)
    discount_amount, tax_amount, total = (
        money(discount_amount),
        money(tax_amount),
        money(total),
    )
    if subtotal - discount_amount + tax_amount != total:
        raise ValidationError(
            f"Its lines ({subtotal}) less its discount ({discount_amount}) plus its "
            f"tax ({tax_amount}) do not make its total ({total})."
        )
    if total <= 0:
        raise ValidationError("An invoice for nothing cannot be issued.")
    if due_date is None or due_date < issue_date:
        due_date = issue_date + timedelta(days=rules.payment_terms_days)
    invoice = Invoice.objects.create(
        organization=organization,
        client=client,
        number=_take_number(organization.pk, InvoiceKind.INVOICE),
        status=InvoiceStatus.SENT,
        currency=rules.currency,
        issue_date=issue_date,
        due_date=due_date,
        memo=memo.strip(),
        subtotal=subtotal,
        discount_amount=discount_amount,
        tax_amount=tax_amount,
        total=total,
        issued_at=timezone.now(),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            organization=organization,
            invoice=invoice,
            position=position,
            kind=LineKind.FEE,
            description=(line.description.strip() or "Services")[:500],
            quantity=line.quantity,
            unit_price=money(line.unit_price),
            amount=money(line.amount),
            standard_amount=money(line.amount),
            taxable=tax_amount > 0,
        )
        for position, line in enumerate(lines)
    )
    return invoice


def _on_issue(invoice: Invoice) -> None:
    """Once the issue commits, a job makes the PDF and emails it to the client
    (billing.services.delivery); it stamps `sent_at` when the email goes."""
    from billing import tasks

    tasks.invoice_send_queue(invoice)


@transaction.atomic
def invoice_void(*, invoice: Invoice, by: User | None, reason: str) -> Invoice:
    """Cancel an issued invoice nobody paid or credited. It keeps its number
    (numbers never go back); its time is unbilled again."""
    require_biller(invoice.organization_id, by)
    locked = _lock_invoice(invoice)
    if locked.status == InvoiceStatus.DRAFT:
        raise ValidationError("A draft is deleted, not voided.")
    if locked.status == InvoiceStatus.VOID:
        raise ValidationError(f"{locked.display_number} is already void.")
    if locked.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError("A credit note cannot be voided.")
    if locked.amount_paid > 0:
        raise ValidationError(
            f"{locked.display_number} has payments: refund them first, or issue a "
            "credit note for what is not owed."
        )
    if locked.amount_credited > 0:
        raise ValidationError(
            f"{locked.display_number} has credit notes: credit the rest instead."
        )
    if not reason.strip():
        raise ValidationError("Say why the invoice is void.")
    locked.status = InvoiceStatus.VOID
    locked.voided_at = timezone.now()
    locked.void_reason = reason.strip()[:300]
    locked.save()
    TimeEntry.objects.filter(
        organization_id=locked.organization_id, invoice_line__invoice=locked
    ).update(invoice_line=None)
    # Its PDF is drawn again, saying VOID.
    from billing import tasks

    tasks.invoice_pdf_queue(locked)
    return locked


@transaction.atomic
def credit_note_create(
    *, invoice: Invoice, by: User | None, amount: Decimal, reason: str
) -> Invoice:
    """Issue a credit note reducing what `invoice` still owes (never beyond it:
    money already paid goes back by a refund)."""
    require_biller(invoice.organization_id, by)
    locked = _lock_invoice(invoice)
    if locked.kind != InvoiceKind.INVOICE or locked.status in (
        InvoiceStatus.DRAFT,
        InvoiceStatus.VOID,
    ):
        raise ValidationError("Only an issued invoice can be credited.")
    amount = money(amount)
    if amount <= 0:
        raise ValidationError("A credit note is for more than nothing.")
    if amount > locked.balance:
        raise ValidationError(
            f"A credit note cannot exceed what is still owed ({locked.balance} "
            f"{locked.currency}); refund a payment instead."
        )
    if not reason.strip():
        raise ValidationError("Say why the invoice is credited.")
    today = firm_today(invoice.organization)
    now = timezone.now()
    note = Invoice.objects.create(
        organization_id=locked.organization_id,
        kind=InvoiceKind.CREDIT_NOTE,
        client_id=locked.client_id,
        engagement_id=locked.engagement_id,
        number=_take_number(locked.organization_id, InvoiceKind.CREDIT_NOTE),
        status=InvoiceStatus.SENT,
        currency=locked.currency,
        issue_date=today,
        memo=reason.strip(),
        subtotal=amount,
        total=amount,
        credited_invoice=locked,
        created_by=by,
        issued_at=now,
        sent_at=now,
    )
    InvoiceLine.objects.create(
        organization_id=locked.organization_id,
        invoice=note,
        kind=LineKind.CREDIT,
        description=f"Credit on {locked.display_number}: {reason.strip()}"[:500],
        unit_price=amount,
        amount=amount,
        taxable=False,
    )
    locked.amount_credited += amount
    settle(locked)
    return note


@transaction.atomic
def invoice_mark_viewed(*, invoice: Invoice) -> Invoice:
    """The client opened it on the portal (first time only)."""
    locked = _lock_invoice(invoice)
    if locked.viewed_at is None and locked.status != InvoiceStatus.DRAFT:
        locked.viewed_at = timezone.now()
        if locked.status == InvoiceStatus.SENT:
            locked.status = InvoiceStatus.VIEWED
        locked.save(update_fields=["viewed_at", "status", "updated_at"])
    return locked
