"""Recurring schedules: their periods, and the job that makes each period's workflow once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import ClientStatus
from tests.factories import wait_for_lock_waiters
from workflows.models import (
    RecurringSchedule,
    Task,
    TaskDependency,
    TaskStatus,
    WorkflowExecution,
)
from workflows.services.recurrence import (
    recurrence_rule_parse,
    recurring_executions_create,
    schedule_periods,
)
from workflows.tasks import recurring_executions_run

CLOSE_STEPS = [
    ("Reconcile bank", {"due_offset_days": 5, "assignee_rule": "preparer"}),
    ("Review", {"after": ["Reconcile bank"], "due_offset_days": 0, "due_from": "due"}),
    ("Send statements", {"after": ["Review"]}),
]


def _periods(frequency, starts_on, count, **kwargs):
    periods = schedule_periods(frequency=frequency, starts_on=starts_on, **kwargs)
    return [p for p, _ in zip(periods, range(count), strict=False)]


def _starts(frequency, starts_on, count, **kwargs):
    return [p.start for p in _periods(frequency, starts_on, count, **kwargs)]


# Periods ---------------------------------------------------------------------------


def test_a_monthly_schedule_from_january_31_keeps_to_the_months_last_day():
    periods = _periods("monthly", date(2027, 1, 31), 4)

    assert [(p.start, p.end) for p in periods] == [
        (date(2027, 1, 31), date(2027, 2, 27)),
        (date(2027, 2, 28), date(2027, 3, 30)),
        (date(2027, 3, 31), date(2027, 4, 29)),  # back to the 31st, not the 28th
        (date(2027, 4, 30), date(2027, 5, 30)),
    ]
    assert [p.label for p in periods] == [
        "January 2027",
        "February 2027",
        "March 2027",
        "April 2027",
    ]


def test_a_leap_year_gives_february_its_29th():
    assert _starts("monthly", date(2028, 1, 31), 3) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    assert _starts("quarterly", date(2027, 11, 30), 3) == [
        date(2027, 11, 30),
        date(2028, 2, 29),
        date(2028, 5, 30),
    ]


def test_a_yearly_schedule_from_february_29_falls_on_the_28th_between_leap_years():
    assert _starts("yearly", date(2024, 2, 29), 5) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_calendar_periods_are_named_by_month_quarter_and_year():
    assert [p.label for p in _periods("monthly", date(2027, 3, 1), 2)] == [
        "March 2027",
        "April 2027",
    ]
    quarters = _periods("quarterly", date(2027, 1, 1), 5)
    assert [p.label for p in quarters] == [
        "Q1 2027",
        "Q2 2027",
        "Q3 2027",
        "Q4 2027",
        "Q1 2028",
    ]
    assert (quarters[0].start, quarters[0].end) == (date(2027, 1, 1), date(2027, 3, 31))
    years = _periods("yearly", date(2026, 1, 1), 2)
    assert [(p.label, p.end) for p in years] == [
        ("2026", date(2026, 12, 31)),
        ("2027", date(2027, 12, 31)),
    ]


def test_periods_off_the_calendar_say_their_span():
    [fiscal] = _periods("yearly", date(2026, 7, 1), 1)
    [quarter] = _periods("quarterly", date(2027, 2, 1), 1)

    assert fiscal.label == "Jul 2026 – Jun 2027"
    assert quarter.label == "Feb – Apr 2027"


def test_a_rule_gives_its_own_dates_and_each_period_ends_before_the_next():
    periods = _periods("rrule", date(2027, 1, 10), 3, rule="FREQ=MONTHLY;BYMONTHDAY=15")

    assert [(p.start, p.end) for p in periods] == [
        (date(2027, 1, 15), date(2027, 2, 14)),
        (date(2027, 2, 15), date(2027, 3, 14)),
        (date(2027, 3, 15), date(2027, 4, 14)),
    ]
    assert periods[0].label == "January 15, 2027"


def test_a_rule_for_the_last_day_of_each_month_handles_leap_years():
    assert _starts(
        "rrule", date(2028, 1, 1), 3, rule="RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"
    ) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_a_finite_rule_ends_and_its_last_period_lasts_one_step():
    periods = _periods(
        "rrule", date(2027, 1, 1), 10, rule="FREQ=WEEKLY;INTERVAL=2;COUNT=2"
    )

    assert [(p.start, p.end) for p in periods] == [
        (date(2027, 1, 1), date(2027, 1, 14)),
        (date(2027, 1, 15), date(2027, 1, 28)),
    ]


def test_no_period_starts_after_the_end_date():
    assert _starts("monthly", date(2027, 1, 1), 12, ends_on=date(2027, 3, 1)) == [
        date(2027, 1, 1),
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "Write the rule"),
        ("BYMONTHDAY=15", "needs a frequency"),
        ("FREQ=HOURLY", "repeats too often"),
        ("FREQ=MONTHLY;BYMONTHDAY=abc", "not a valid RRULE"),
        ("FREQ=MONTHLY;FOO=1", "not a valid RRULE"),
        ("FREQ=MONTHLY;UNTIL=20200101", "no date on or after the start date"),
        ("DTSTART:20270101\nRRULE:FREQ=MONTHLY", "one RRULE line"),
    ],
)
def test_an_invalid_rule_is_refused_with_a_clear_message(rule, message):
    with pytest.raises(ValidationError) as exc:
        recurrence_rule_parse(rule, starts_on=date(2027, 1, 1))

    assert message in exc.value.messages[0]


# The job ---------------------------------------------------------------------------


@pytest.fixture
def close_template(cast, make_template):
    return make_template(
        cast.alpha, "Monthly close", CLOSE_STEPS, category="bookkeeping"
    )


def _schedule(template, client, **fields) -> RecurringSchedule:
    fields.setdefault("frequency", "monthly")
    fields.setdefault("starts_on", date(2027, 3, 1))
    fields.setdefault("create_days_ahead", 10)
    fields.setdefault("due_days_after_period", 15)
    with tenant_context(template.organization):
        return RecurringSchedule.objects.create(
            organization=template.organization,
            template=template,
            client=client,
            **fields,
        )


def _create(organization, today) -> int:
    with tenant_context(organization):
        return recurring_executions_create(organization=organization, today=today)


def _executions(organization):
    with tenant_context(organization):
        return list(
            WorkflowExecution.objects.filter(organization=organization)
            .select_related("client")
            .order_by("client__display_name", "period_start")
        )


def test_a_period_is_created_when_its_creation_date_comes(
    cast, close_template, make_wf_client
):
    jane = make_wf_client(cast.alpha, "Jane Doe", staff=cast.sam)
    schedule = _schedule(close_template, jane)

    assert _create(cast.alpha, date(2027, 2, 18)) == 0  # 11 days before March
    assert _create(cast.alpha, date(2027, 2, 19)) == 1  # 10 days before

    [execution] = _executions(cast.alpha)
    assert execution.name == "Monthly close – March 2027"
    assert execution.recurring_schedule_id == schedule.pk
    assert execution.period_start == date(2027, 3, 1)
    assert execution.start_date == date(2027, 3, 1)
    assert execution.due_date == date(2027, 4, 15)  # March 31 + 15 days
    assert (execution.tasks_total, execution.tasks_done) == (3, 0)
    with tenant_context(cast.alpha):
        tasks = {t.title: t for t in Task.objects.filter(execution=execution)}
        depends = set(
            TaskDependency.objects.filter(task__execution=execution).values_list(
                "task__title", "depends_on__title"
            )
        )
        schedule.refresh_from_db()
    assert {t: (v.status, v.due_date, v.assignee_id) for t, v in tasks.items()} == {
        "Reconcile bank": (TaskStatus.READY, date(2027, 3, 6), cast.sam.pk),
        "Review": (TaskStatus.PENDING, date(2027, 4, 15), None),
        "Send statements": (TaskStatus.PENDING, date(2027, 3, 1), None),
    }
    assert [
        tasks[t].step_index for t in ("Reconcile bank", "Review", "Send statements")
    ] == [0, 1, 2]
    assert depends == {("Review", "Reconcile bank"), ("Send statements", "Review")}
    assert schedule.last_run_at is not None


def test_running_the_job_again_creates_nothing_new(
    cast, close_template, make_wf_client
):
    for name in ("Jane Doe", "Acme Corp"):
        _schedule(close_template, make_wf_client(cast.alpha, name))

    first = _create(cast.alpha, date(2027, 2, 20))
    second = _create(cast.alpha, date(2027, 2, 20))

    assert (first, second) == (2, 0)
    assert len(_executions(cast.alpha)) == 2
    with tenant_context(cast.alpha):
        assert Task.objects.filter(organization=cast.alpha).count() == 6


def test_the_job_writes_the_change_log_for_what_it_creates_and_only_that(
    cast, close_template, make_wf_client
):
    from django.contrib.contenttypes.models import ContentType

    from advisoros.audit.models import LogEntry

    _schedule(close_template, make_wf_client(cast.alpha, "Jane Doe"))

    _create(cast.alpha, date(2027, 2, 20))
    _create(cast.alpha, date(2027, 2, 20))  # nothing new: nothing logged

    with tenant_context(cast.alpha):
        for model, count in ((WorkflowExecution, 1), (Task, 3)):
            entries = LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                action=LogEntry.Action.CREATE,
            )
            ids = set(model.objects.values_list("pk", flat=True))
            assert {e.object_id for e in entries} == ids and len(ids) == count
            assert {e.actor_id for e in entries} == {None}  # the scheduled job


def test_the_next_runs_create_the_following_periods_only(
    cast, close_template, make_wf_client
):
    _schedule(
        close_template,
        make_wf_client(cast.alpha, "Jane Doe"),
        starts_on=date(2027, 1, 31),
    )

    created = [
        _create(cast.alpha, today)
        for today in (
            date(2027, 1, 21),
            date(2027, 2, 17),
            date(2027, 2, 18),
            date(2027, 3, 21),
        )
    ]

    assert created == [1, 0, 1, 1]
    assert [(e.name, e.period_start, e.due_date) for e in _executions(cast.alpha)] == [
        ("Monthly close – January 2027", date(2027, 1, 31), date(2027, 3, 14)),
        ("Monthly close – February 2027", date(2027, 2, 28), date(2027, 4, 14)),
        ("Monthly close – March 2027", date(2027, 3, 31), date(2027, 5, 14)),
    ]


def test_a_late_run_catches_up_on_the_periods_still_before_their_due_date(
    cast, close_template, make_wf_client
):
    _schedule(
        close_template,
        make_wf_client(cast.alpha, "Jane Doe"),
        starts_on=date(2027, 1, 1),
        create_days_ahead=10,
        due_days_after_period=15,
    )

    # The job was down: January (due Feb 15) and February (made from Jan 22) are
    # both still worth doing; March is made from Feb 19.
    assert _create(cast.alpha, date(2027, 2, 10)) == 2

    assert [e.name for e in _executions(cast.alpha)] == [
        "Monthly close – January 2027",
        "Monthly close – February 2027",
    ]


def test_periods_already_past_their_due_date_are_skipped(
    cast, close_template, make_wf_client
):
    _schedule(
        close_template,
        make_wf_client(cast.alpha, "Jane Doe"),
        frequency="quarterly",
        starts_on=date(2027, 1, 1),
    )

    # Q1 was due April 15 and Q2 July 15: paused, or set up late, they are not
    # made now; Q3 (due Oct 15) is.
    assert _create(cast.alpha, date(2027, 9, 1)) == 1

    assert [e.name for e in _executions(cast.alpha)] == ["Monthly close – Q3 2027"]
    assert _create(cast.alpha, date(2027, 9, 1)) == 0


def test_a_deleted_period_is_not_made_again(cast, close_template, make_wf_client):
    _schedule(close_template, make_wf_client(cast.alpha, "Jane Doe"))
    _create(cast.alpha, date(2027, 3, 25))  # March and April
    [march, april] = _executions(cast.alpha)
    with tenant_context(cast.alpha):
        march.delete()

    assert _create(cast.alpha, date(2027, 3, 26)) == 0
    assert [e.name for e in _executions(cast.alpha)] == ["Monthly close – April 2027"]


def test_paused_schedules_archived_templates_and_archived_clients_make_nothing(
    cast, close_template, make_wf_client, make_template
):
    _schedule(close_template, make_wf_client(cast.alpha, "Paused"), is_active=False)
    _schedule(
        close_template,
        make_wf_client(cast.alpha, "Archived", status=ClientStatus.ARCHIVED),
    )
    old = make_template(cast.alpha, "Old close", CLOSE_STEPS, is_active=False)
    _schedule(old, make_wf_client(cast.alpha, "Old template"))
    empty = make_template(cast.alpha, "No steps yet", [])
    _schedule(empty, make_wf_client(cast.alpha, "Empty template"))

    assert _create(cast.alpha, date(2027, 3, 1)) == 0
    assert _executions(cast.alpha) == []


def test_the_job_makes_each_firms_workflows_in_that_firm(
    cast,
    close_template,
    make_wf_client,
    make_template,
    django_capture_on_commit_callbacks,
):
    today = firm_today(cast.alpha)
    _schedule(
        close_template,
        make_wf_client(cast.alpha, "Jane Doe"),
        starts_on=today,
        create_days_ahead=0,
    )
    beta_template = make_template(cast.beta, "Payroll", CLOSE_STEPS)
    _schedule(
        beta_template,
        make_wf_client(cast.beta, "Bob Builder"),
        starts_on=today,
        create_days_ahead=0,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert recurring_executions_run() == 2  # firms queued (run at once in tests)
    with django_capture_on_commit_callbacks(execute=True):
        recurring_executions_run()

    alpha, beta = _executions(cast.alpha), _executions(cast.beta)
    assert [(e.client.display_name, e.period_start) for e in alpha] == [
        ("Jane Doe", today)
    ]
    assert [(e.client.display_name, e.period_start) for e in beta] == [
        ("Bob Builder", today)
    ]
    with platform_bypass():
        assert WorkflowExecution.objects.count() == 2


def test_the_database_refuses_a_second_workflow_for_a_period(
    cast, close_template, make_wf_client
):
    schedule = _schedule(close_template, make_wf_client(cast.alpha, "Jane Doe"))
    _create(cast.alpha, date(2027, 2, 20))
    [made] = _executions(cast.alpha)

    with (
        tenant_context(cast.alpha),
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        WorkflowExecution.objects.create(
            organization=cast.alpha,
            client=made.client,
            name="A copy",
            start_date=made.start_date,
            recurring_schedule=schedule,
            period_start=made.period_start,
        )


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_create_a_duplicate(
    cast, close_template, make_wf_client
):
    """Worker A inserts the periods and holds its transaction open; worker B, on
    another connection, runs meanwhile: the unique constraint makes B wait on A's
    rows and then skip them, so B creates nothing."""
    for name in ("Jane Doe", "Acme Corp", "Bob Builder"):
        _schedule(close_template, make_wf_client(cast.alpha, name))
    today = date(2027, 2, 20)
    a_inserted, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker_a():
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                results["a"] = recurring_executions_create(
                    organization=cast.alpha, today=today
                )
                a_inserted.set()
                release.wait(15)  # commit only when B is seen waiting
        except Exception as exc:  # pragma: no cover - reported below
            results["a"] = exc
            a_inserted.set()
        finally:
            connection.close()

    def worker_b():
        try:
            with tenant_context(cast.alpha):
                results["b"] = recurring_executions_create(
                    organization=cast.alpha, today=today
                )
        except Exception as exc:  # pragma: no cover - reported below
            results["b"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=worker_a)
    a.start()
    assert a_inserted.wait(15)
    b = threading.Thread(target=worker_b)
    b.start()
    b_waited_on_a_lock = wait_for_lock_waiters(statement="INSERT")
    release.set()
    a.join(15)
    b.join(15)

    assert (results["a"], results["b"]) == (3, 0)
    assert b_waited_on_a_lock  # B reached the insert and the constraint held it
    executions = _executions(cast.alpha)
    assert len(executions) == 3
    assert len({(e.recurring_schedule_id, e.period_start) for e in executions}) == 3
    with tenant_context(cast.alpha):
        assert Task.objects.filter(organization=cast.alpha).count() == 9
