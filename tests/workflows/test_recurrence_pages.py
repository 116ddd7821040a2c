"""The recurring-schedule pages: list, new schedule with its preview, pause and resume."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.messages import get_messages

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from workflows.models import RecurringSchedule, WorkflowExecution

LIST = "/o/alpha/workflows/schedules/"
NEW = "/o/alpha/workflows/schedules/new/"
PREVIEW = "/o/alpha/workflows/schedules/preview/"
STEPS = [("Reconcile", {}), ("Review", {"after": ["Reconcile"]})]


@pytest.fixture
def close(cast, make_template):
    return make_template(cast.alpha, "Monthly close", STEPS, category="bookkeeping")


@pytest.fixture
def manager(cast):
    return cast.mia


def _schedule(template, client, **fields) -> RecurringSchedule:
    fields.setdefault("frequency", "monthly")
    fields.setdefault("starts_on", date(2030, 1, 1))
    with tenant_context(template.organization):
        return RecurringSchedule.objects.create(
            organization=template.organization,
            template=template,
            client=client,
            **fields,
        )


def _schedules(organization):
    with tenant_context(organization):
        return list(RecurringSchedule.objects.filter(organization=organization))


def _form(tpl, client, **fields) -> dict:
    return {
        "client": str(client.uuid),
        "engagement": "",
        "template": str(tpl.uuid),
        "frequency": "monthly",
        "rrule": "",
        "starts_on": "2030-01-31",
        "ends_on": "",
        "create_days_ahead": "14",
        "due_days_after_period": "15",
        **fields,
    }


def test_the_list_shows_each_schedule_with_its_next_period(
    cast, login_as, close, jane, make_wf_client
):
    _schedule(close, jane, starts_on=date(2030, 3, 1), create_days_ahead=10)
    _schedule(close, make_wf_client(cast.alpha, "Acme Corp"), is_active=False)

    response = login_as(cast.rita).get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="schedule-row"') == 2
    assert "Monthly close – March 2030" in page
    assert "created Feb 19, 2030, due Apr 15, 2030" in page
    assert "Paused" in page
    assert 'data-testid="new-schedule"' not in page  # read-only: no buttons
    assert ">Pause</button>" not in page


def test_the_list_makes_the_same_number_of_queries_for_1_or_30_schedules(
    cast, login_as, close, make_wf_client, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(LIST)  # the first request also writes the session
    for count in (1, 29):
        for i in range(count):
            _schedule(close, make_wf_client(cast.alpha, f"Client {count} {i}"))
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of schedules with their
        # client, template, engagement and latest period, 6 reset the RLS context.
        with django_assert_num_queries(6):
            response = client.get(LIST)
        assert response.status_code == 200
    assert response.content.decode().count('data-testid="schedule-row"') == 25


def test_the_list_says_when_there_is_none(cast, login_as):
    page = login_as(cast.alice).get(LIST).content.decode()

    assert 'data-testid="schedules-empty"' in page


def test_a_manager_creates_a_schedule_and_its_due_periods_are_made_at_once(
    cast, login_as, close, jane, manager, django_capture_on_commit_callbacks
):
    today = firm_today(cast.alpha)
    starts_on = today.replace(day=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(manager).post(
            NEW, _form(close, jane, starts_on=starts_on.isoformat())
        )

    assert response.status_code == 302
    assert response.url == LIST
    [schedule] = _schedules(cast.alpha)
    assert (schedule.client_id, schedule.template_id) == (jane.pk, close.pk)
    assert schedule.created_by == manager
    with tenant_context(cast.alpha):
        made = list(
            WorkflowExecution.objects.filter(recurring_schedule=schedule).values_list(
                "name", flat=True
            )
        )
    # This month's period is made by the job queued on commit (next month's too
    # when it starts within the 14 days ahead).
    label = starts_on.strftime("%B %Y")
    assert f"Monthly close – {label}" in made
    next_month = starts_on + relativedelta(months=1)
    assert len(made) == (2 if (next_month - today).days <= 14 else 1)
    [message] = get_messages(response.wsgi_request)
    assert "now recurs for Jane Doe" in str(message)


def test_a_custom_rule_is_saved_and_an_invalid_one_refused(
    cast, login_as, close, jane, django_capture_on_commit_callbacks
):
    client = login_as(cast.alice)

    bad = client.post(
        NEW, _form(close, jane, frequency="rrule", rrule="FREQ=SOMETIMES")
    )
    assert bad.status_code == 200
    assert "This is not a valid RRULE" in bad.content.decode()
    assert _schedules(cast.alpha) == []

    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(
            NEW,
            _form(close, jane, frequency="rrule", rrule="FREQ=MONTHLY;BYMONTHDAY=15"),
        )
    assert good.status_code == 302
    [schedule] = _schedules(cast.alpha)
    assert (schedule.frequency, schedule.rrule) == (
        "rrule",
        "FREQ=MONTHLY;BYMONTHDAY=15",
    )


def test_a_rule_is_dropped_when_the_frequency_is_not_custom(
    cast, login_as, close, jane
):
    login_as(cast.alice).post(NEW, _form(close, jane, rrule="FREQ=WEEKLY"))

    [schedule] = _schedules(cast.alpha)
    assert (schedule.frequency, schedule.rrule) == ("monthly", "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"starts_on": ""}, "This field is required."),
        ({"starts_on": "2000-01-01"}, "Start within the last year."),
        ({"ends_on": "2029-12-01"}, "The last period cannot start before the first."),
        ({"create_days_ahead": "400"}, "less than or equal to 366"),
        ({"template": ""}, "This field is required."),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(
    cast, login_as, close, jane, fields, message
):
    response = login_as(cast.alice).post(NEW, _form(close, jane, **fields))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _schedules(cast.alpha) == []


def test_another_firms_client_or_template_is_not_a_choice(
    cast, login_as, close, jane, make_wf_client, make_template
):
    theirs = make_wf_client(cast.beta, "Bob Builder")
    their_template = make_template(cast.beta, "Payroll", STEPS)
    client = login_as(cast.alice)

    for form in (_form(close, theirs), _form(their_template, jane)):
        response = client.post(NEW, form)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert _schedules(cast.alpha) == []
    assert _schedules(cast.beta) == []


def test_staff_cannot_create_schedules(cast, login_as, close, jane):
    client = login_as(cast.sam)

    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _form(close, jane)).status_code == 403
    assert _schedules(cast.alpha) == []


def test_the_new_schedule_page_offers_the_firms_clients_and_templates(
    cast, login_as, close, jane, make_wf_client, make_template
):
    make_wf_client(cast.beta, "Bob Builder")
    make_template(cast.beta, "Payroll", STEPS)

    page = login_as(cast.alice).get(NEW).content.decode()

    assert "Jane Doe" in page and "Monthly close" in page
    assert "Bob Builder" not in page and "Payroll" not in page
    assert 'data-testid="schedule-preview"' in page


def test_the_preview_lists_the_coming_periods_with_their_names(cast, login_as, close):
    response = login_as(cast.alice).get(
        PREVIEW,
        {
            "template": str(close.uuid),
            "frequency": "monthly",
            "starts_on": "2032-01-31",
            "create_days_ahead": "10",
            "due_days_after_period": "15",
        },
    )

    page = response.content.decode()
    assert page.count('data-testid="preview-period"') == 6
    assert "Monthly close – January 2032" in page
    assert "Feb 29, 2032 – Mar 30, 2032" in page  # a leap year's February
    assert "created Jan 21, 2032" in page


def test_the_preview_explains_an_invalid_rule(cast, login_as):
    response = login_as(cast.alice).get(
        PREVIEW,
        {"frequency": "rrule", "rrule": "FREQ=MINUTELY", "starts_on": "2032-01-01"},
    )

    assert "repeats too often" in response.content.decode()


def test_pause_and_resume(cast, login_as, close, jane):
    schedule = _schedule(close, jane)
    client = login_as(cast.alice)
    url = f"/o/alpha/workflows/schedules/{schedule.uuid}/active/"

    client.post(url, {"active": "0"})
    assert not _schedules(cast.alpha)[0].is_active
    page = client.get(LIST).content.decode()
    assert "Schedule paused" in page and ">Resume</button>" in page

    client.post(url, {"active": "1"})
    assert _schedules(cast.alpha)[0].is_active


def test_a_paused_schedule_makes_nothing(cast, login_as, close, jane):
    from workflows.services.recurrence import recurring_executions_create

    schedule = _schedule(close, jane, starts_on=date(2030, 1, 1))
    login_as(cast.alice).post(
        f"/o/alpha/workflows/schedules/{schedule.uuid}/active/", {"active": "0"}
    )

    with tenant_context(cast.alpha):
        made = recurring_executions_create(
            organization=cast.alpha, today=date(2030, 1, 1)
        )
    assert made == 0


def test_another_firms_schedule_is_not_found(cast, login_as, close, jane):
    schedule = _schedule(close, jane)

    response = login_as(cast.oscar).post(
        f"/o/beta/workflows/schedules/{schedule.uuid}/active/", {"active": "0"}
    )

    assert response.status_code == 404
    assert _schedules(cast.alpha)[0].is_active
