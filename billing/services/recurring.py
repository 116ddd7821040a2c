"""Recurring invoices: an engagement billed again every month, quarter or year
(monthly bookkeeping, a retainer), from its `RecurringInvoiceLine` rows and,
optionally, the engagement's unbilled time (docs/billing.md, "Recurring
invoices").

Dates. `next_date` is the date of the next invoice; each one made moves it one
period on. A day from the 1st to the 28th recurs on that day; a month's last
day recurs on each month's last day (January 31, February 28, March 31), so
month-end billing never drifts to the 28th. The 29th and 30th of a longer
month are refused: not every month has them.

Once per period. `recurring_run_due` makes each due period's invoice in a
transaction that locks the RecurringInvoice row, re-reads `next_date` under the
lock and moves it on before committing, together with the invoice. A retry or
a second worker running at the same moment waits for the lock, then finds the
period made and does nothing: no period is billed twice, none is lost to a
rollback.

Catch-up. After the job was down (or a worker queue stalled) for several
periods, each missed period gets its own invoice, issued on the day of the run
and labelled with the period it bills: each period's fee is owed, and dropping
all but the latest would lose the firm money without anyone noticing. At most
`MAX_PERIODS_PER_RUN` periods per run (the next run goes on). A *paused*
recurring invoice is different: pausing is the firm's decision not to bill, so
resuming it skips the periods that passed meanwhile. So is a client made
inactive or archived: its periods pass unbilled (logged).

Issue or review. With `issue_automatically` each invoice is issued through
`invoice_issue` (numbered, sent), which queues its PDF and email
(`billing.tasks.invoice_send_job`). Otherwise it stays a draft and the
people responsible (the engagement's partner and manager, and whoever set the
recurring invoice up) get a "waiting for your review" notification; so they do
when an automatic issue is refused (an invoice for nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q

from advisoros.accounts.models import User
from advisoros.row_urls import row_url
from advisoros.tenancy.models import Membership, Organization, Role
from billing.models import (
    ZERO,
    Invoice,
    LineKind,
    RecurringCadence,
    RecurringInvoice,
    RecurringInvoiceLine,
)
from billing.selectors import unbilled_time
from billing.services.common import require_biller
from billing.services.invoices import (
    invoice_add_line,
    invoice_add_time,
    invoice_create,
    invoice_delete_draft,
    invoice_issue,
)
from clients.models import ClientStatus, Engagement, FeeModel
from workflows.models import Notification
from workflows.services.recurrence import period_label

logger = logging.getLogger(__name__)

MONTHS = {
    RecurringCadence.MONTHLY: 1,
    RecurringCadence.QUARTERLY: 3,
    RecurringCadence.YEARLY: 12,
}
# A run makes at most this many periods per recurring invoice (a long outage is
# caught up over several runs).
MAX_PERIODS_PER_RUN = 12
MAX_LINES = 20
# Clients whose periods pass without an invoice.
NOT_BILLED = (ClientStatus.INACTIVE, ClientStatus.ARCHIVED)


class RecurringState:
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class LineData:
    """A line of a recurring invoice, as a form gives it."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    taxable: bool = True


# Dates -------------------------------------------------------------------------------


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def recurring_date_check(day: date) -> None:
    """Refuse a day that some months do not have (the 29th or 30th of a longer
    month, the 31st is a month end and fine)."""
    if day.day > 28 and not is_month_end(day):
        raise ValidationError(
            {
                "next_date": "Choose a day from the 1st to the 28th, or a month's "
                "last day: every month has those."
            }
        )


def following_date(day: date, cadence: str) -> date:
    """The date one period after `day` (a month's last day stays a last day)."""
    following = day + relativedelta(months=MONTHS[cadence])
    if is_month_end(day):
        following += relativedelta(day=31)  # relativedelta clamps: the last day
    return following


def billing_period_label(cadence: str, day: date) -> str:
    """ "March 2027", "Q2 2027", "2027": the period that starts on `day`."""
    end = following_date(day, cadence) - timedelta(days=1)
    return period_label(cadence, day, end)


def recurring_state(recurring: RecurringInvoice) -> str:
    """Ended once its next date is past its end date (whatever `is_active`
    says); else paused or active."""
    if recurring.end_date is not None and recurring.next_date > recurring.end_date:
        return RecurringState.ENDED
    return RecurringState.ACTIVE if recurring.is_active else RecurringState.PAUSED


def coming_dates(recurring: RecurringInvoice, count: int) -> list[date]:
    """The next `count` invoice dates (fewer when it ends first)."""
    dates: list[date] = []
    day = recurring.next_date
    while len(dates) < count:
        if recurring.end_date is not None and day > recurring.end_date:
            break
        dates.append(day)
        day = following_date(day, recurring.cadence)
    return dates


# Setting one up ----------------------------------------------------------------------


def _check(
    *,
    cadence: str,
    next_date: date,
    end_date: date | None,
    lines: list[LineData],
    include_unbilled_time: bool,
    today: date,
    next_date_changed: bool = True,
) -> None:
    errors: dict[str, list[str]] = {}
    if cadence not in MONTHS:
        errors["cadence"] = ["Choose monthly, quarterly or yearly."]
    if next_date_changed:
        if next_date < today:
            errors["next_date"] = [
                "The next invoice cannot be dated in the past: choose today or later."
            ]
        else:
            try:
                recurring_date_check(next_date)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if end_date is not None and end_date < next_date:
        errors["end_date"] = ["The end date cannot come before the next invoice."]
    if not lines and not include_unbilled_time:
        errors["__all__"] = [
            "Add at least one line, or bill the engagement's unbilled time."
        ]
    if len(lines) > MAX_LINES:
        errors["__all__"] = [f"A recurring invoice has at most {MAX_LINES} lines."]
    for line in lines:
        if not line.description.strip():
            errors["__all__"] = ["Describe every line."]
        if line.quantity < 0 or line.unit_price < 0:
            errors["__all__"] = [
                "Quantities and prices cannot be negative: a credit note reduces "
                "an invoice."
            ]
    if errors:
        raise ValidationError(errors)


def _save_lines(recurring: RecurringInvoice, lines: list[LineData]) -> None:
    RecurringInvoiceLine.objects.filter(
        organization_id=recurring.organization_id, recurring=recurring
    ).delete()
    for position, line in enumerate(lines):
        made = RecurringInvoiceLine(
            organization_id=recurring.organization_id,
            recurring=recurring,
            position=position,
            description=line.description.strip(),
            quantity=line.quantity,
            unit_price=line.unit_price,
            taxable=line.taxable,
        )
        made.full_clean()
        made.save()


@transaction.atomic
def recurring_invoice_create(
    *,
    organization: Organization,
    engagement: Engagement,
    by: User | None,
    cadence: str,
    next_date: date,
    lines: Iterable[LineData],
    today: date,
    end_date: date | None = None,
    issue_automatically: bool = True,
    include_unbilled_time: bool = False,
    memo: str = "",
) -> RecurringInvoice:
    """Bill `engagement` every period from `next_date` (today or later: `today`
    is the firm's date)."""
    require_biller(organization.pk, by)
    if engagement.organization_id != organization.pk:
        raise ValidationError("Choose an engagement of this firm.")
    lines = list(lines)
    _check(
        cadence=cadence,
        next_date=next_date,
        end_date=end_date,
        lines=lines,
        include_unbilled_time=include_unbilled_time,
        today=today,
    )
    recurring = RecurringInvoice(
        organization=organization,
        client_id=engagement.client_id,
        engagement=engagement,
        cadence=cadence,
        next_date=next_date,
        end_date=end_date,
        issue_automatically=issue_automatically,
        include_unbilled_time=include_unbilled_time,
        memo=memo.strip(),
        created_by=by,
    )
    recurring.full_clean()
    recurring.save()
    _save_lines(recurring, lines)
    return recurring


def _lock(recurring: RecurringInvoice) -> RecurringInvoice:
    return RecurringInvoice.objects.select_for_update().get(
        organization_id=recurring.organization_id, pk=recurring.pk
    )


@transaction.atomic
def recurring_invoice_update(
    *,
    recurring: RecurringInvoice,
    by: User | None,
    cadence: str,
    next_date: date,
    lines: Iterable[LineData],
    today: date,
    end_date: date | None = None,
    issue_automatically: bool = True,
    include_unbilled_time: bool = False,
    memo: str = "",
) -> RecurringInvoice:
    """Change what the coming invoices bill and when; the invoices already made
    stay as they are (issued ones are never edited)."""
    require_biller(recurring.organization_id, by)
    locked = _lock(recurring)
    lines = list(lines)
    _check(
        cadence=cadence,
        next_date=next_date,
        end_date=end_date,
        lines=lines,
        include_unbilled_time=include_unbilled_time,
        today=today,
        next_date_changed=next_date != locked.next_date,
    )
    locked.cadence = cadence
    locked.next_date = next_date
    locked.end_date = end_date
    locked.issue_automatically = issue_automatically
    locked.include_unbilled_time = include_unbilled_time
    locked.memo = memo.strip()
    locked.full_clean()
    locked.save()
    _save_lines(locked, lines)
    return locked


@transaction.atomic
def recurring_invoice_pause(
    *, recurring: RecurringInvoice, by: User | None
) -> RecurringInvoice:
    """No invoice until resumed; the periods that pass meanwhile are not billed."""
    require_biller(recurring.organization_id, by)
    locked = _lock(recurring)
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active", "updated_at"])
    return locked


@transaction.atomic
def recurring_invoice_resume(
    *, recurring: RecurringInvoice, by: User | None, today: date
) -> RecurringInvoice:
    """Bill again from the first invoice date on or after `today`: the periods
    that passed while it was paused are skipped (pausing meant not billing them)."""
    require_biller(recurring.organization_id, by)
    locked = _lock(recurring)
    if locked.is_active and recurring_state(locked) == RecurringState.ACTIVE:
        return locked  # a second click: its due periods stay due
    if recurring_state(locked) == RecurringState.ENDED:
        raise ValidationError(
            "This recurring invoice has ended: move its end date first."
        )
    while locked.next_date < today:
        locked.next_date = following_date(locked.next_date, locked.cadence)
    locked.is_active = True
    if locked.end_date is not None and locked.next_date > locked.end_date:
        raise ValidationError(
            "Its end date has passed while it was paused: move the end date first."
        )
    locked.save(update_fields=["is_active", "next_date", "updated_at"])
    return locked


@transaction.atomic
def recurring_invoice_end(
    *, recurring: RecurringInvoice, by: User | None
) -> RecurringInvoice:
    """No more invoices: it ends the day before its next one. The invoices made
    stay; moving the end date later and resuming starts it again."""
    require_biller(recurring.organization_id, by)
    locked = _lock(recurring)
    last_day = locked.next_date - timedelta(days=1)
    if locked.end_date is None or locked.end_date > last_day:
        locked.end_date = last_day
    locked.is_active = False
    locked.save(update_fields=["end_date", "is_active", "updated_at"])
    return locked


# The run -----------------------------------------------------------------------------


def _due(organization: Organization, today: date):
    return RecurringInvoice.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=F("next_date")),
        organization=organization,
        is_active=True,
        next_date__lte=today,
    )


def recurring_run_due(*, organization: Organization, today: date) -> int:
    """Make the invoice of every due period of the firm's active recurring
    invoices (`today` is the firm's date); returns how many were made. Safe to
    run again and in several workers at once (see the module's docstring). One
    recurring invoice that fails does not hold up the others; the failure is
    raised at the end, so the job is retried (what was made stays made)."""
    # Query: the due ones, oldest date first.
    due = list(
        _due(organization, today)
        .order_by("next_date", "pk")
        .values_list("pk", flat=True)
    )
    made = 0
    failed: list[int] = []
    for pk in due:
        try:
            for _ in range(MAX_PERIODS_PER_RUN):
                outcome = _run_period(organization, pk, today)
                if outcome is None:
                    break
                made += outcome
        except Exception:
            logger.exception(
                "Recurring invoice %s of firm %s failed", pk, organization.pk
            )
            failed.append(pk)
    if failed:
        raise RuntimeError(
            f"{len(failed)} recurring invoice(s) failed (made {made}); see the log."
        )
    return made


@transaction.atomic
def _run_period(organization: Organization, pk: int, today: date) -> int | None:
    """The invoice of the recurring invoice's next period, if it is due: 1 when
    one was made, 0 when the period passed without one, None when none is due
    (another run made it, or it was paused or ended meanwhile)."""
    # Query: the row, locked, if it is still due (re-read under the lock).
    recurring = (
        _due(organization, today)
        .select_for_update(of=("self",))
        .select_related("client", "engagement", "created_by")
        .filter(pk=pk)
        .first()
    )
    if recurring is None:
        return None
    period = recurring.next_date
    label = billing_period_label(recurring.cadence, period)
    made = 0
    if recurring.client.status in NOT_BILLED:
        logger.info(
            "Recurring invoice %s: %s not billed, the client is %s",
            recurring.uuid,
            label,
            recurring.client.status,
        )
    else:
        invoice = _make_invoice(organization, recurring, period, label, today)
        made = 1 if invoice is not None else 0
    recurring.next_date = following_date(period, recurring.cadence)
    recurring.save(update_fields=["next_date", "updated_at"])
    return made


def _make_invoice(
    organization: Organization,
    recurring: RecurringInvoice,
    period: date,
    label: str,
    today: date,
) -> Invoice | None:
    engagement = recurring.engagement
    invoice = invoice_create(
        organization=organization,
        client=recurring.client,
        engagement=engagement,
        by=None,
        memo=recurring.memo,
    )
    invoice.recurring = recurring
    invoice.save(update_fields=["recurring", "updated_at"])
    kind = (
        LineKind.RETAINER
        if engagement is not None and engagement.fee_model == FeeModel.RETAINER
        else LineKind.FEE
    )
    for line in recurring.lines.all():
        invoice_add_line(
            invoice=invoice,
            by=None,
            description=f"{line.description} – {label}"[:500],
            quantity=line.quantity,
            unit_price=line.unit_price,
            kind=kind,
            taxable=line.taxable,
        )
    if recurring.include_unbilled_time and engagement is not None:
        # The engagement's time recorded before the invoice's date.
        entries = list(
            unbilled_time(
                organization_id=organization.pk, client_id=recurring.client_id
            ).filter(engagement=engagement, date__lt=period)
        )
        if entries:
            invoice_add_time(
                invoice=invoice, by=None, entries=entries, group_by_engagement=True
            )
    if not invoice.lines.exists():
        logger.info(
            "Recurring invoice %s: nothing to bill for %s", recurring.uuid, label
        )
        invoice_delete_draft(invoice=invoice, by=None)
        return None
    problem = ""
    if recurring.issue_automatically:
        try:
            invoice = invoice_issue(invoice=invoice, by=None, issue_date=today)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        else:
            return invoice  # invoice_issue queued its PDF and email
    invoice.refresh_from_db()
    _notify_review(organization, recurring, invoice, label, problem)
    return invoice


def _notify_review(
    organization: Organization,
    recurring: RecurringInvoice,
    invoice: Invoice,
    label: str,
    problem: str,
) -> int:
    """ "Waiting for your review" for the engagement's partner and manager and
    whoever set the recurring invoice up (active members who bill)."""
    engagement = recurring.engagement
    wanted = {recurring.created_by_id}
    if engagement is not None:
        wanted |= {engagement.partner_id, engagement.manager_id}
    wanted.discard(None)
    people = [
        m.user_id
        for m in Membership.objects.filter(
            organization=organization, user_id__in=wanted, is_active=True
        )
        if m.has_role(Role.STAFF)
    ]
    if not people:
        return 0
    total = f"{invoice.total} {invoice.currency}" if invoice.total > ZERO else ""
    title = f"Recurring invoice for {recurring.client.display_name}, {label}"
    title += f" ({total}): a draft to review" if total else ": a draft to review"
    if problem:
        title += f". Not issued: {problem}"
    link = row_url(
        "billing:recurring_edit", "recurring_uuid", org_slug=organization.slug
    )
    Notification.objects.bulk_create(
        Notification(
            organization=organization,
            user_id=user_id,
            kind=Notification.Kind.REVIEW,
            title=title[:197] + "…" if len(title) > 200 else title,
            url=link(recurring.uuid),
        )
        for user_id in sorted(people)
    )
    return len(people)
