"""Time: the firm's rounding rule, the rates an entry is recorded at, the running
timer, and the writes of time entries (docs/billing.md, "Time").

The rules these functions keep:

- Minutes are rounded by the firm's rule (`BillingSettings.time_increment_minutes`
  and `time_rounding`). An entry keeps what was typed or timed
  (`recorded_minutes`) and the rounded minutes that are billed (`minutes`).
- An entry holds more than nothing and at most a day: 1 to 1,440 minutes.
- An entry keeps the rates it was recorded at: `rates_for` is read when it is
  made and again only when its engagement changes (the engagement decides the
  rate), never because a rate changed later.
- A billed entry (`invoice_line` set) is read-only: update and delete lock the
  row and refuse it, so an invoice being built at the same moment cannot pick up
  an entry that is being changed.
- One timer per person per firm. Starting another stops the running one into an
  entry first (switching to the next client is the usual reason to start a
  timer), so no time is lost and no second timer exists.
- A timer that ran for more than a day (one left running over a weekend) records
  a day, 24 hours, on the day it started; `recorded_minutes` keeps how long it
  really ran, and the page that stopped it says so, for the person to correct.
  Splitting it over the days it ran would bill nights nobody worked.
- A timer stopped under half a minute records nothing (zero minutes is no entry).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization
from billing.models import (
    ZERO,
    BillingSettings,
    EngagementRate,
    Invoice,
    MemberRate,
    TimeEntry,
    Timer,
    TimeRounding,
)
from billing.selectors import billing_settings
from clients.models import Client, Engagement
from workflows.models import Task

DAY_MINUTES = 24 * 60


# Rounding --------------------------------------------------------------------------


def minutes_round(settings: BillingSettings, minutes: int) -> int:
    """`minutes` by the firm's rule: up to the next increment (a started tenth of
    an hour is billed), to the nearest one (halves go up), or as they are.

    With 6-minute increments: up turns 1 into 6 and 61 into 66; nearest turns 2
    into 0, 3 into 6 and 64 into 66. Zero and less stay zero."""
    if minutes <= 0:
        return 0
    step = settings.time_increment_minutes
    if settings.time_rounding == TimeRounding.NONE or step <= 1:
        return minutes
    whole, rest = divmod(minutes, step)
    if settings.time_rounding == TimeRounding.UP:
        return (whole + (1 if rest else 0)) * step
    return (whole + (1 if 2 * rest >= step else 0)) * step


def _rounded(settings: BillingSettings, minutes: int) -> int:
    """Rounded, and still within a day (1,439 rounded up by 7 would pass it)."""
    return min(minutes_round(settings, minutes), DAY_MINUTES)


# Rates -----------------------------------------------------------------------------


def rates_for(
    *, organization_id: int, user_id: int, engagement: Engagement | None
) -> tuple[Decimal, Decimal]:
    """(billing rate, cost rate) per hour for `user_id`'s time on `engagement`.

    The billing rate is the first that applies of: the engagement's rate for this
    member, the engagement's rate for everyone, the engagement's own hourly rate,
    the member's billing rate (when above zero), the firm's default rate. The
    cost rate is the member's (zero when none is set): what the hour costs the
    firm does not depend on the client."""
    # Query: the member's rates.
    member = (
        MemberRate.objects.filter(
            organization_id=organization_id, membership__user_id=user_id
        )
        .values_list("billing_rate", "cost_rate")
        .first()
    )
    member_rate, cost_rate = member or (ZERO, ZERO)
    if engagement is not None:
        # Query: the engagement's rates for this member and for everyone.
        overrides = dict(
            EngagementRate.objects.filter(
                organization_id=organization_id, engagement=engagement
            )
            .filter(Q(membership__isnull=True) | Q(membership__user_id=user_id))
            .values_list("membership__user_id", "billing_rate")
        )
        if user_id in overrides:
            return overrides[user_id], cost_rate
        if None in overrides:
            return overrides[None], cost_rate
        if engagement.hourly_rate is not None:
            return engagement.hourly_rate, cost_rate
    if member_rate > 0:
        return member_rate, cost_rate
    # Query: the firm's default rate (no row yet: the model's default).
    default = (
        BillingSettings.objects.filter(organization_id=organization_id)
        .values_list("default_billing_rate", flat=True)
        .first()
    )
    if default is None:
        default = BillingSettings._meta.get_field("default_billing_rate").default
    return default, cost_rate


# Checks shared by entries and timers -------------------------------------------------


def _check_member(organization: Organization, user: User) -> None:
    if not Membership.objects.filter(
        organization=organization, user=user, is_active=True
    ).exists():
        raise ValidationError("Time is recorded for the firm's active members only.")


def _check_minutes(minutes: int) -> None:
    if minutes < 0:
        raise ValidationError({"minutes": "Time cannot be negative."})
    if minutes == 0:
        raise ValidationError({"minutes": "Enter the time spent."})
    if minutes > DAY_MINUTES:
        raise ValidationError({"minutes": "One entry holds at most 24 hours."})


def _day_minutes(
    organization: Organization, user_id: int, date: dt.date, *, lock: bool = True
) -> int:
    """The minutes `user_id` has recorded on `date`. With `lock`, the person's
    membership row is locked first, so two entries saved at once for the same
    person are counted one after the other (the day's cap holds)."""
    if lock:
        list(
            Membership.objects.select_for_update()
            .filter(organization=organization, user_id=user_id)
            .values_list("pk", flat=True)
        )
    return (
        TimeEntry.objects.filter(
            organization=organization, user_id=user_id, date=date
        ).aggregate(total=Sum("minutes"))["total"]
        or 0
    )


def _check_day(
    organization: Organization,
    user_id: int,
    date: dt.date,
    minutes: int,
    *,
    replacing: int = 0,
) -> None:
    """A person's day holds at most 24 hours (`replacing`: the minutes of the
    entry being edited, already counted)."""
    recorded = _day_minutes(organization, user_id, date) - replacing
    if recorded + minutes > DAY_MINUTES:
        left = max(DAY_MINUTES - recorded, 0)
        raise ValidationError(
            {
                "minutes": f"{date:%b} {date.day} already has {recorded // 60} h"
                f" {recorded % 60:02d} min recorded; a day holds at most 24 hours"
                f" ({left // 60} h {left % 60:02d} min left)."
            }
        )


def _check_work(
    *,
    organization: Organization,
    client: Client,
    engagement: Engagement | None,
    task: Task | None,
) -> Engagement | None:
    """The client, engagement and task belong to the firm and to each other.
    Returns the engagement, taken from the task's workflow when none is given
    (time on a task counts against its engagement's budget)."""
    if client is None or client.organization_id != organization.pk:
        raise ValidationError({"client": "Choose a client of the firm."})
    errors: dict[str, str] = {}
    if engagement is not None:
        if engagement.organization_id != organization.pk:
            errors["engagement"] = "Choose an engagement of the firm."
        elif engagement.client_id != client.pk:
            errors["engagement"] = (
                f"This engagement is not {client.display_name}'s: choose one of "
                "theirs, or none."
            )
    if task is not None and not errors:
        if task.organization_id != organization.pk:
            errors["task"] = "Choose a task of the firm."
        elif task.client_id not in (None, client.pk):
            errors["task"] = "This task is another client's."
        elif task.execution_id is not None:
            # Query: the engagement of the task's workflow.
            task_engagement_id = (
                Task.objects.filter(organization=organization, pk=task.pk)
                .values_list("execution__engagement_id", flat=True)
                .first()
            )
            if task_engagement_id is not None:
                if engagement is None:
                    engagement = Engagement.objects.filter(
                        organization=organization,
                        pk=task_engagement_id,
                        client=client,
                    ).first()
                    if engagement is None:
                        errors["task"] = "This task is another client's."
                elif engagement.pk != task_engagement_id:
                    errors["task"] = "This task belongs to another engagement."
    if errors:
        raise ValidationError(errors)
    return engagement


def billed_refusal(entry: TimeEntry) -> str:
    """Why `entry` cannot be changed ("" when it can): it is on an invoice."""
    if entry.invoice_line_id is None:
        return ""
    # Query: the invoice that holds it.
    invoice = Invoice.objects.filter(
        organization_id=entry.organization_id, lines=entry.invoice_line_id
    ).first()
    if invoice is not None and invoice.is_draft:
        return "This time is on a draft invoice: take it off the invoice to change it."
    on = f" on {invoice.display_number}" if invoice is not None else ""
    return f"This time is billed{on}: billed time cannot be changed."


def _refuse_billed(entry: TimeEntry) -> None:
    if refusal := billed_refusal(entry):
        raise ValidationError(refusal)


# Time entries ----------------------------------------------------------------------


@transaction.atomic
@transaction.atomic
def time_entry_create(
    *,
    organization: Organization,
    user: User,
    client: Client,
    date: dt.date,
    minutes: int,
    engagement: Engagement | None = None,
    task: Task | None = None,
    description: str = "",
    billable: bool = True,
) -> TimeEntry:
    """`minutes` of `user`'s work for `client` on `date`, rounded by the firm's
    rule, at the rates that apply now."""
    _check_minutes(minutes)
    _check_member(organization, user)
    engagement = _check_work(
        organization=organization, client=client, engagement=engagement, task=task
    )
    settings = billing_settings(organization)
    rate, cost_rate = rates_for(
        organization_id=organization.pk, user_id=user.pk, engagement=engagement
    )
    rounded = _rounded(settings, minutes)
    _check_day(organization, user.pk, date, rounded)
    entry = TimeEntry(
        organization=organization,
        user=user,
        client=client,
        engagement=engagement,
        task=task,
        date=date,
        minutes=rounded,
        recorded_minutes=minutes,
        description=description.strip(),
        billable=billable,
        rate=rate,
        cost_rate=cost_rate,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def time_entry_update(
    *,
    entry: TimeEntry,
    client: Client,
    date: dt.date,
    minutes: int,
    engagement: Engagement | None = None,
    task: Task | None = None,
    description: str = "",
    billable: bool = True,
) -> TimeEntry:
    """The entry as edited. Minutes left as they were keep their recorded length
    (a capped timer's); changed ones are rounded again. The rates are read again
    only when the engagement changes."""
    organization = entry.organization
    # Query: the entry, locked: an invoice cannot take it while it changes.
    locked = TimeEntry.objects.select_for_update().get(
        organization=organization, pk=entry.pk
    )
    _refuse_billed(locked)
    _check_minutes(minutes)
    engagement = _check_work(
        organization=organization, client=client, engagement=engagement, task=task
    )
    before = (locked.date, locked.minutes)
    if minutes != locked.minutes:
        locked.recorded_minutes = minutes
        locked.minutes = _rounded(billing_settings(organization), minutes)
    if (date, locked.minutes) != before:
        _check_day(
            organization,
            locked.user_id,
            date,
            locked.minutes,
            replacing=before[1] if date == before[0] else 0,
        )
    new_engagement_id = engagement.pk if engagement is not None else None
    if new_engagement_id != locked.engagement_id:
        locked.rate, locked.cost_rate = rates_for(
            organization_id=organization.pk,
            user_id=locked.user_id,
            engagement=engagement,
        )
    locked.client = client
    locked.engagement = engagement
    locked.task = task
    locked.date = date
    locked.description = description.strip()
    locked.billable = billable
    locked.full_clean()
    locked.save()
    return locked


@transaction.atomic
def time_entry_delete(*, entry: TimeEntry) -> None:
    locked = TimeEntry.objects.select_for_update().get(
        organization_id=entry.organization_id, pk=entry.pk
    )
    _refuse_billed(locked)
    locked.delete()


# The timer -------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerStopped:
    """What stopping a timer did: the entry it recorded (None when it ran under
    half a minute) and how long it really ran."""

    client_name: str
    elapsed_minutes: int
    entry: TimeEntry | None

    @property
    def capped(self) -> bool:
        return self.elapsed_minutes > DAY_MINUTES


def timer_elapsed_seconds(timer: Timer, now: dt.datetime | None = None) -> int:
    return max(0, int(((now or timezone.now()) - timer.started_at).total_seconds()))


def _timer_record(organization: Organization, user: User) -> TimerStopped | None:
    """Stop `user`'s running timer into an entry (in the caller's transaction)."""
    # Query: the person's timer with its client, locked: a double-clicked Stop
    # waits here, then finds no timer, and records nothing twice.
    timer = (
        Timer.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(organization=organization, user=user)
        .first()
    )
    if timer is None:
        return None
    seconds = timer_elapsed_seconds(timer)
    elapsed = (seconds + 30) // 60  # to the nearest whole minute
    entry = None
    if elapsed > 0:
        settings = billing_settings(organization)
        rate, cost_rate = rates_for(
            organization_id=organization.pk,
            user_id=user.pk,
            engagement=timer.engagement,
        )
        started = timer.started_at.astimezone(zoneinfo.ZoneInfo(organization.timezone))
        # At most what is left of that day's 24 hours (recorded_minutes keeps
        # how long it really ran).
        left = DAY_MINUTES - _day_minutes(organization, user.pk, started.date())
        minutes = min(_rounded(settings, min(elapsed, DAY_MINUTES)), max(left, 0))
        if minutes > 0:
            entry = TimeEntry(
                organization=organization,
                user=user,
                client=timer.client,
                engagement=timer.engagement,
                task=timer.task,
                date=started.date(),
                minutes=minutes,
                recorded_minutes=elapsed,
                description=timer.description,
                billable=timer.billable,
                rate=rate,
                cost_rate=cost_rate,
            )
            entry.full_clean()
            entry.save()
    timer.delete()
    return TimerStopped(
        client_name=timer.client.display_name, elapsed_minutes=elapsed, entry=entry
    )


@transaction.atomic
def timer_start(
    *,
    organization: Organization,
    user: User,
    client: Client,
    engagement: Engagement | None = None,
    task: Task | None = None,
    description: str = "",
    billable: bool = True,
) -> tuple[Timer, TimerStopped | None]:
    """Start `user`'s timer for `client`. A running timer is stopped into an
    entry first; the second value says what it recorded (None: none ran)."""
    _check_member(organization, user)
    engagement = _check_work(
        organization=organization, client=client, engagement=engagement, task=task
    )
    stopped = _timer_record(organization, user)
    timer = Timer(
        organization=organization,
        user=user,
        client=client,
        engagement=engagement,
        task=task,
        description=description.strip(),
        billable=billable,
        started_at=timezone.now(),
    )
    timer.full_clean()
    try:
        with transaction.atomic():
            timer.save()
    except IntegrityError as exc:
        # Another start of the same person won the race (one timer per person).
        raise ValidationError(
            "A timer was started for you at the same moment: stop it first."
        ) from exc
    return timer, stopped


@transaction.atomic
def timer_stop(*, organization: Organization, user: User) -> TimerStopped:
    """Stop `user`'s timer: its time becomes an entry (see the module doc)."""
    stopped = _timer_record(organization, user)
    if stopped is None:
        raise ValidationError("No timer is running.")
    return stopped


@transaction.atomic
def timer_discard(*, organization: Organization, user: User) -> bool:
    """Throw `user`'s running timer away, recording nothing. Whether one ran."""
    deleted, _ = Timer.objects.filter(organization=organization, user=user).delete()
    return deleted > 0
