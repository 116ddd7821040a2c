"""Invoices past their due date: marked overdue, reminded at the firm's
cadence, and charged a late fee once (docs/billing.md, "Overdue invoices").

A scheduled job runs the three for each firm with its own date (`today`):

- `overdue_invoices_mark`: sent or viewed invoices whose due date has passed
  become OVERDUE. A partly paid one stays PARTIAL (the status says money came
  in; its due date says it is late), and is reminded and charged all the same.
- `late_fees_charge`: when the firm charges one (`late_fee_percent` > 0), an
  invoice still unpaid `late_fee_after_days` after its due date gets a separate
  issued invoice, "Late fee on INV-00012", for `money(balance x percent / 100)`,
  linked by `Invoice.late_fee_invoice`. An issued invoice is never edited, so
  the fee cannot be a line on it. Once per invoice: the invoice row is locked
  and the link is written in the transaction that issues the fee. A fee
  invoice is not charged a fee itself (no fee on a fee).
- `invoice_reminders_send`: a reminder email on each of the firm's reminder
  days after the due date (`BillingSettings.reminder_offsets()`, e.g. 3, 14 and
  30). `Invoice.reminders_sent` counts the offsets already covered: the row is
  locked, the email sent and the count written in one transaction, so a retry
  after a failed send tries again and one after a good send finds it done. A
  run that finds several offsets passed at once (the job was down) sends one
  reminder, not a burst.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateformat import format as date_format

from advisoros.tenancy.models import Organization
from billing.emails import reminder_email
from billing.models import (
    OPEN_INVOICE_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
    money,
)
from billing.selectors import billing_settings
from billing.services.invoices import invoice_add_line, invoice_create, invoice_issue

logger = logging.getLogger(__name__)
BATCH = 500
HUNDRED = Decimal("100")


def _open_invoices(organization: Organization):
    return Invoice.objects.filter(
        organization=organization,
        kind=InvoiceKind.INVOICE,
        status__in=OPEN_INVOICE_STATUSES,
    )


# Overdue -----------------------------------------------------------------------------


def overdue_invoices_mark(*, organization: Organization, today: date) -> int:
    """SENT and VIEWED invoices due before `today` become OVERDUE; returns how
    many. Each is saved under a lock (so the change log has it and a payment
    settling it at the same moment is waited for, then re-checked)."""
    late = dict(
        status__in=(InvoiceStatus.SENT, InvoiceStatus.VIEWED), due_date__lt=today
    )
    # Query: the invoices to mark (the (organization, status, due_date) index).
    ids = list(
        Invoice.objects.filter(organization=organization, **late).values_list(
            "pk", flat=True
        )
    )
    marked = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            rows = Invoice.objects.select_for_update().filter(
                organization=organization, pk__in=ids[start : start + BATCH], **late
            )
            for invoice in rows:
                invoice.status = InvoiceStatus.OVERDUE
                invoice.save(update_fields=["status", "updated_at"])
                marked += 1
    return marked


# Late fees ---------------------------------------------------------------------------


def _percent_text(percent: Decimal) -> str:
    return f"{percent:f}".rstrip("0").rstrip(".")


def late_fees_charge(*, organization: Organization, today: date) -> int:
    """Charge the firm's late fee on each invoice unpaid `late_fee_after_days`
    after its due date, once; returns how many fees were issued."""
    rules = billing_settings(organization)
    if rules.late_fee_percent <= 0:
        return 0
    latest_due = today - timedelta(days=max(rules.late_fee_after_days, 1))
    is_a_fee = Invoice.objects.filter(
        organization=organization, late_fee_invoice=OuterRef("pk")
    )
    # Query: open invoices past the fee's day without a fee, not fees themselves.
    ids = list(
        _open_invoices(organization)
        .filter(due_date__lte=latest_due, late_fee_invoice__isnull=True)
        .exclude(Exists(is_a_fee))
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    charged = 0
    for pk in ids:
        if _charge(organization, pk, rules.late_fee_percent, latest_due, today):
            charged += 1
    return charged


@transaction.atomic
def _charge(
    organization: Organization,
    pk: int,
    percent: Decimal,
    latest_due: date,
    today: date,
) -> bool:
    invoice = (
        _open_invoices(organization)
        .select_for_update(of=("self",))
        .select_related("client")
        .filter(pk=pk, due_date__lte=latest_due, late_fee_invoice__isnull=True)
        .first()
    )
    if invoice is None:
        return False  # paid, voided or charged meanwhile
    balance = invoice.balance
    fee = money(balance * percent / HUNDRED)
    if fee <= 0:
        return False
    number = invoice.display_number
    fee_invoice = invoice_create(
        organization=organization,
        client=invoice.client,
        engagement=invoice.engagement,
        by=None,
        memo=f"Late fee on {number}, due {date_format(invoice.due_date, 'F j, Y')}.",
    )
    invoice_add_line(
        invoice=fee_invoice,
        by=None,
        kind=LineKind.LATE_FEE,
        description=(
            f"Late fee on {number}: {_percent_text(percent)}% of the "
            f"{balance} {invoice.currency} unpaid"
        ),
        quantity=Decimal("1"),
        unit_price=fee,
        taxable=False,
    )
    fee_invoice = invoice_issue(invoice=fee_invoice, by=None, issue_date=today)
    invoice.late_fee_invoice = fee_invoice
    invoice.save(update_fields=["late_fee_invoice", "updated_at"])
    # invoice_issue queued the fee invoice's PDF and email.
    logger.info("Late fee %s on %s: %s", fee_invoice.display_number, number, fee)
    return True


# Reminders ---------------------------------------------------------------------------


def reminders_due(offsets: list[int], days_late: int) -> int:
    """How many of the firm's reminder offsets have come `days_late` days
    after the due date."""
    return sum(1 for offset in offsets if offset <= days_late)


def invoice_reminders_send(*, organization: Organization, today: date) -> int:
    """Email the reminder of each open invoice whose next reminder day has come;
    returns how many went out. One invoice whose email fails does not stop the
    others; the failure is raised at the end, so the job is retried."""
    offsets = billing_settings(organization).reminder_offsets()
    if not offsets:
        return 0
    # Query: open invoices at least the first offset late with offsets to go.
    ids = list(
        _open_invoices(organization)
        .filter(
            due_date__lte=today - timedelta(days=offsets[0]),
            reminders_sent__lt=len(offsets),
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    failed = 0
    for pk in ids:
        try:
            sent += _remind(organization, pk, offsets, today)
        except Exception:
            logger.exception("Reminder of invoice %s failed", pk)
            failed += 1
    if failed:
        raise RuntimeError(f"{failed} reminder(s) failed ({sent} sent); see the log.")
    return sent


@transaction.atomic
def _remind(
    organization: Organization, pk: int, offsets: list[int], today: date
) -> int:
    invoice = (
        _open_invoices(organization)
        .select_for_update(of=("self",))
        .select_related("client")
        .filter(pk=pk)
        .first()
    )
    if invoice is None or invoice.due_date is None:
        return 0
    days_late = (today - invoice.due_date).days
    covered = reminders_due(offsets, days_late)
    if covered <= invoice.reminders_sent:
        return 0  # sent already (a retry, or another worker)
    message = reminder_email(organization, invoice, days_late=days_late)
    if message is None:
        logger.info("No address for the reminder of invoice %s", invoice.uuid)
    else:
        message.send()
    invoice.reminders_sent = covered
    invoice.last_reminded_at = timezone.now()
    invoice.save(update_fields=["reminders_sent", "last_reminded_at", "updated_at"])
    return 0 if message is None else 1


def overdue_invoices_process(*, organization: Organization, today: date) -> int:
    """The daily round of a firm: mark, charge, remind. Returns what it did
    (invoices marked + fees issued + reminders sent)."""
    done = overdue_invoices_mark(organization=organization, today=today)
    done += late_fees_charge(organization=organization, today=today)
    done += invoice_reminders_send(organization=organization, today=today)
    return done
