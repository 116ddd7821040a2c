"""Recurring schedules: the periods they cover, and the executions made for them.

A schedule's periods start on `starts_on` and then every month, quarter or year
after it (or at each occurrence of an RFC 5545 rule). Months are counted from
the first date, never from the previous period, so a schedule starting on
January 31 has periods starting February 28 (29 in a leap year), March 31,
April 30. A period ends the day before the next one starts.

`recurring_executions_create` makes the execution of each period whose creation
date (`period start - create_days_ahead`) has come. It is safe to run again and
in several workers at once: executions are inserted with ON CONFLICT DO NOTHING
against the unique (recurring_schedule, period_start) constraint, and only the
rows a run really inserted get their tasks. Tasks are expanded in bulk with the
engine's own rules (`workflows.services.executions`: assignee rules, due
offsets, dependencies), a fixed number of queries per batch of executions.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateformat import format as date_format

from advisoros.audit.services import log_created
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.models import ClientStatus
from workflows.models import (
    RecurringSchedule,
    Task,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.services.executions import (
    Assigner,
    TemplateShape,
    execution_tasks_build,
    task_dependencies_insert,
    template_shape,
)
from workflows.services.tasks import notify

logger = logging.getLogger(__name__)
Frequency = RecurringSchedule.Frequency

# A run creates at most this many periods per schedule (a schedule whose start
# lies far back catches up over several runs instead of all at once).
MAX_PERIODS_PER_RUN = 12
# Executions inserted (and expanded) per transaction.
BATCH_SIZE = 1000
MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}
_FREQ = re.compile(r"(?:^|[;:\s])FREQ=(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


# Rules ------------------------------------------------------------------------------


def recurrence_rule_parse(text: str, *, starts_on: date) -> rrule:
    """The rule of an RRULE text (with or without the "RRULE:" prefix), from
    `starts_on`; ValidationError with a message a person can act on."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the rule, e.g. FREQ=MONTHLY;BYMONTHDAY=15.")
    if "\n" in text or "DTSTART" in text.upper():
        raise ValidationError(
            "Write one RRULE line only; the start date comes from the schedule."
        )
    found = _FREQ.search(text)
    if found is None:
        raise ValidationError("The rule needs a frequency, e.g. FREQ=MONTHLY.")
    if found.group(1).upper() in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise ValidationError(
            "The rule repeats too often: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY."
        )
    try:
        rule = rrulestr(text, dtstart=_midnight(starts_on))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"This is not a valid RRULE: {exc}.") from exc
    if not isinstance(rule, rrule):
        raise ValidationError("Write a single RRULE.")
    if rule.after(_midnight(starts_on), inc=True) is None:
        raise ValidationError("The rule has no date on or after the start date.")
    return rule


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)  # noqa: DTZ001 (a calendar date)


# Periods ----------------------------------------------------------------------------


def _month_label(start: date) -> str:
    return date_format(start, "F Y")


def _span_label(start: date, end: date) -> str:
    if start.year == end.year:
        return f"{date_format(start, 'M')} – {date_format(end, 'M Y')}"
    return f"{date_format(start, 'M Y')} – {date_format(end, 'M Y')}"


def period_label(frequency: str, start: date, end: date) -> str:
    """ "March 2027", "Q1 2027", "2026"; periods off the calendar say their span."""
    if frequency == Frequency.MONTHLY:
        return _month_label(start)
    if frequency == Frequency.QUARTERLY:
        if start.day == 1 and start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        return _span_label(start, end)
    if frequency == Frequency.YEARLY:
        if (start.month, start.day) == (1, 1):
            return str(start.year)
        return _span_label(start, end)
    return date_format(start, "F j, Y")


def _rule_step(rule: rrule) -> relativedelta:
    """How long one period of a rule lasts when no next date tells (the last one)."""
    freq, interval = rule._freq, rule._interval  # dateutil keeps them private
    return {
        0: relativedelta(years=interval),
        1: relativedelta(months=interval),
        2: relativedelta(weeks=interval),
    }.get(freq, relativedelta(days=interval))


def _starts(
    frequency: str, rule_text: str, starts_on: date
) -> Iterator[tuple[date, date]]:
    """(start, next start) of each period, without end."""
    if frequency in MONTHS:
        months = MONTHS[frequency]
        k = 0
        while True:
            # Always from the first date: Jan 31 -> Feb 28 -> Mar 31 (not Mar 28).
            yield (
                starts_on + relativedelta(months=months * k),
                starts_on + relativedelta(months=months * (k + 1)),
            )
            k += 1
    rule = recurrence_rule_parse(rule_text, starts_on=starts_on)
    occurrences = (d.date() for d in rule)
    current = next(occurrences, None)
    while current is not None:
        following = next(occurrences, None)
        yield current, following or current + _rule_step(rule)
        current = following


def schedule_periods(
    *,
    frequency: str,
    starts_on: date,
    rule: str = "",
    ends_on: date | None = None,
    after: date | None = None,
) -> Iterator[Period]:
    """The periods of a schedule in order, those starting after `after` only, up
    to the last one starting on or before `ends_on` (endless without it)."""
    for start, following in _starts(frequency, rule, starts_on):
        if ends_on is not None and start > ends_on:
            return
        if after is not None and start <= after:
            continue
        end = following - timedelta(days=1)
        yield Period(start, end, period_label(frequency, start, end))


def periods_of(
    schedule: RecurringSchedule, *, after: date | None = None
) -> Iterator[Period]:
    return schedule_periods(
        frequency=schedule.frequency,
        starts_on=schedule.starts_on,
        rule=schedule.rrule,
        ends_on=schedule.ends_on,
        after=after,
    )


def execution_name(template: WorkflowTemplate, period: Period) -> str:
    """ "Monthly close – March 2027"."""
    return f"{template.name} – {period.label}"[:200]


def period_creation_date(schedule: RecurringSchedule, period: Period) -> date:
    return period.start - timedelta(days=schedule.create_days_ahead)


def period_due_date(schedule: RecurringSchedule, period: Period) -> date:
    return period.end + timedelta(days=schedule.due_days_after_period)


def due_periods(
    schedule: RecurringSchedule, *, today: date, last_period_start: date | None
) -> list[Period]:
    """The periods after the last one made whose creation date has come, less
    those already past their due date (a paused schedule, or a job down for
    weeks, does not make work that is overdue before it starts)."""
    due = []
    for period in islice(periods_of(schedule, after=last_period_start), 400):
        if period_creation_date(schedule, period) > today:
            break
        if period_due_date(schedule, period) < today:
            continue
        due.append(period)
        if len(due) == MAX_PERIODS_PER_RUN:
            break
    return due


# The run ----------------------------------------------------------------------------


def _shape(
    template: WorkflowTemplate, cache: dict[int, TemplateShape]
) -> TemplateShape:
    """The template's steps and dependencies, read once per run (two queries)."""
    if template.pk not in cache:
        cache[template.pk] = template_shape(template)
    return cache[template.pk]


def _active_schedules(organization: Organization) -> list[RecurringSchedule]:
    last = WorkflowExecution.objects.filter(
        organization=organization, recurring_schedule=OuterRef("pk")
    ).order_by("-period_start")
    # Query: the active schedules with their latest period (one backwards index
    # probe each on the unique (recurring_schedule, period_start) index).
    return list(
        RecurringSchedule.objects.filter(
            organization=organization, is_active=True, template__is_active=True
        )
        .exclude(client__status__in=[ClientStatus.INACTIVE, ClientStatus.ARCHIVED])
        .select_related("template", "client", "engagement")
        .annotate(last_period_start=Subquery(last.values("period_start")[:1]))
        .order_by("pk")
    )


def _new_execution(
    schedule: RecurringSchedule, period: Period, steps: int
) -> WorkflowExecution:
    """The period's workflow, not saved yet."""
    return WorkflowExecution(
        organization_id=schedule.organization_id,
        uuid=uuid.uuid4(),  # how this run finds the rows it really inserted
        template=schedule.template,
        template_version=schedule.template.version,
        name=execution_name(schedule.template, period),
        client=schedule.client,
        engagement=schedule.engagement,
        start_date=period.start,
        due_date=period_due_date(schedule, period),
        tasks_total=steps,
        recurring_schedule=schedule,
        period_start=period.start,
        created_by=schedule.created_by,
    )


@transaction.atomic
def _create_batch(
    planned: list[tuple[RecurringSchedule, Period]],
    shapes: dict[int, TemplateShape],
    assigner: Assigner,
) -> int:
    rows = []
    for schedule, period in planned:
        shape = _shape(schedule.template, shapes)
        rows.append((_new_execution(schedule, period, len(shape.steps)), shape))
    # Query: insert them; a period another run already made is skipped by the
    # unique (recurring_schedule, period_start) constraint (ON CONFLICT DO NOTHING).
    WorkflowExecution.objects.bulk_create([e for e, _ in rows], ignore_conflicts=True)
    # Query: which of them this run inserted (the others' uuids went nowhere).
    inserted = dict(
        WorkflowExecution.objects.filter(
            uuid__in=[e.uuid for e, _ in rows]
        ).values_list("uuid", "pk")
    )
    tasks: list[Task] = []
    pairs: list[tuple[Task, Task]] = []  # (task, the task it depends on)
    for execution, shape in rows:
        if execution.uuid not in inserted:
            continue
        execution.pk = inserted[execution.uuid]
        # The engine's own expansion (assignee rules, due offsets, statuses).
        made, links = execution_tasks_build(
            execution=execution,
            shape=shape,
            assigner=assigner.use(
                client=execution.client, engagement=execution.engagement
            ),
        )
        tasks.extend(made)
        pairs.extend(links)
    # Query: the tasks of every new workflow (PostgreSQL returns their keys).
    Task.objects.bulk_create(tasks, batch_size=2000)
    # Query: their dependencies, mirroring the steps'.
    task_dependencies_insert(pairs)
    # Queries: the change log's "created" entries, as a save would write them;
    # the scheduled job is the actor (none).
    log_created([e for e, _ in rows if e.uuid in inserted], actor=None)
    log_created(tasks, actor=None)
    notify("ready", [t for t in tasks if t.status == TaskStatus.READY])
    return len(inserted)


def recurring_executions_create(*, organization: Organization, today: date) -> int:
    """Create the executions of every period whose creation date has come, for
    the firm's active schedules; return how many this run created (0 when run
    again: the database refuses a second execution of a period)."""
    schedules = _active_schedules(organization)
    planned = []
    for schedule in schedules:
        try:
            periods = due_periods(
                schedule, today=today, last_period_start=schedule.last_period_start
            )
        except ValidationError:
            # A rule the form would refuse (written by hand): the others go on.
            logger.warning("Schedule %s has an invalid rule", schedule.uuid)
            continue
        planned.extend((schedule, period) for period in periods)
    created = 0
    if planned:
        shapes: dict[int, TemplateShape] = {}
        # Query: every working member with their open-task load, once per run,
        # so role steps spread over the whole run.
        assigner = Assigner.for_firm(organization_id=organization.pk)
        planned = [p for p in planned if _shape(p[0].template, shapes).steps]
        for i in range(0, len(planned), BATCH_SIZE):
            created += _create_batch(planned[i : i + BATCH_SIZE], shapes, assigner)
    if schedules:
        RecurringSchedule.objects.filter(
            organization=organization, pk__in=[s.pk for s in schedules]
        ).update(last_run_at=timezone.now())
    return created


# Schedules --------------------------------------------------------------------------


@transaction.atomic
def recurring_schedule_create(
    *,
    organization: Organization,
    client,
    template: WorkflowTemplate,
    frequency: str,
    starts_on: date,
    rrule_text: str = "",
    ends_on: date | None = None,
    engagement=None,
    create_days_ahead: int = 14,
    due_days_after_period: int = 15,
    by=None,
) -> RecurringSchedule:
    """A schedule of `template` for `client`; the periods already due are created
    by a job queued when this transaction commits."""
    errors: dict[str, str] = {}
    if client.organization_id != organization.pk:
        errors["client"] = "Choose one of the firm's clients."
    if template.organization_id != organization.pk or not template.is_active:
        errors["template"] = "Choose one of the firm's active templates."
    if engagement is not None and engagement.client_id != client.pk:
        errors["engagement"] = "Choose one of this client's engagements."
    if frequency == Frequency.RRULE:
        try:
            recurrence_rule_parse(rrule_text, starts_on=starts_on)
        except ValidationError as exc:
            errors["rrule"] = exc.messages[0]
    else:
        rrule_text = ""
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The last period cannot start before the first."
    if errors:
        raise ValidationError(errors)
    schedule = RecurringSchedule(
        organization=organization,
        client=client,
        engagement=engagement,
        template=template,
        frequency=frequency,
        rrule=rrule_text,
        starts_on=starts_on,
        ends_on=ends_on,
        create_days_ahead=create_days_ahead,
        due_days_after_period=due_days_after_period,
        created_by=by,
    )
    schedule.full_clean()
    schedule.save()
    enqueue_for_organization("workflows.tasks.recurring_executions_job", organization)
    return schedule


@transaction.atomic
def recurring_schedule_set_active(
    *, schedule: RecurringSchedule, active: bool
) -> RecurringSchedule:
    """Pause or resume. A resumed schedule makes, at the next run, the periods it
    missed meanwhile that are not past their due date yet."""
    locked = RecurringSchedule.objects.select_for_update().get(
        organization_id=schedule.organization_id, pk=schedule.pk
    )
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
    schedule.is_active = locked.is_active
    return locked


def next_periods(
    schedule: RecurringSchedule, *, last_period_start: date | None, count: int
) -> list[Period]:
    """The coming periods not made yet (none for an unreadable rule)."""
    try:
        return list(islice(periods_of(schedule, after=last_period_start), count))
    except ValidationError:
        return []
