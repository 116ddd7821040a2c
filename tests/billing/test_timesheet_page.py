"""The week timesheet: its grid, the quick add, whose week, speed."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import TimeEntry
from billing.time_selectors import week_start
from tests.factories import make_client, make_member, time_entries

URL = "/o/alpha/billing/time/"
MONDAY = dt.date(2027, 3, 1)


def _week(day: dt.date = MONDAY) -> str:
    return f"{URL}?week={day.isoformat()}"


def _post(http, **data):
    data.setdefault("week", MONDAY.isoformat())
    data.setdefault("date", MONDAY.isoformat())
    data.setdefault("billable", "on")
    return http.post(f"{URL}add/", data)


# The grid ------------------------------------------------------------------------------


def test_the_week_has_a_row_per_client_engagement_and_task(
    cast, login_as, acme, books, reconcile, record
):
    other = make_client(cast.alpha, "Bravo Bakery")
    record(cast.sam, acme, 60, on=MONDAY, engagement=books)
    record(cast.sam, acme, 30, on=MONDAY, engagement=books)  # same cell
    record(cast.sam, acme, 90, on=MONDAY + dt.timedelta(days=2), engagement=books)
    record(cast.sam, acme, 48, on=MONDAY + dt.timedelta(days=1), task=reconcile)
    record(cast.sam, other, 120, on=MONDAY + dt.timedelta(days=6), billable=False)
    record(cast.sam, other, 600, on=MONDAY + dt.timedelta(days=7))  # next week
    record(cast.mia, acme, 600, on=MONDAY)  # someone else's

    response = login_as(cast.sam).get(_week(MONDAY + dt.timedelta(days=3)))

    grid = response.context["grid"]
    assert response.status_code == 200
    assert response.context["start"] == MONDAY
    assert [
        (
            r.client.display_name,
            r.engagement and r.engagement.name,
            r.task and r.task.title,
        )
        for r in grid.rows
    ] == [
        ("Acme Widgets", "2026 bookkeeping", None),
        ("Acme Widgets", "2026 bookkeeping", "Reconcile the bank"),
        ("Bravo Bakery", None, None),
    ]
    assert grid.rows[0].days == [90, 0, 90, 0, 0, 0, 0]
    assert grid.rows[1].days == [0, 48, 0, 0, 0, 0, 0]
    assert grid.rows[2].days == [0, 0, 0, 0, 0, 0, 120]
    assert grid.day_totals == [90, 48, 90, 0, 0, 0, 120]
    assert (grid.total, grid.billable, grid.non_billable) == (348, 228, 120)
    html = response.content.decode()
    assert 'data-testid="week-total">5:48<' in html
    assert html.count('data-testid="entry-row"') == 5


def test_a_cell_links_to_the_quick_add_for_its_row_and_day(
    cast, login_as, acme, books, record
):
    record(cast.sam, acme, 60, on=MONDAY, engagement=books)
    client = login_as(cast.sam)

    row = client.get(_week()).context["grid"].rows[0]
    link = row.cells[2]["add_url"]
    query = parse_qs(urlparse(link).query)
    form = client.get(link).context["form"]

    assert query["client"] == [str(acme.uuid)]
    assert query["engagement"] == [str(books.uuid)]
    assert query["date"] == [(MONDAY + dt.timedelta(days=2)).isoformat()]
    assert form.initial["date"] == MONDAY + dt.timedelta(days=2)
    assert form.initial["client"] == str(acme.uuid)
    assert form.initial["engagement"] == str(books.uuid)
    assert form.initial["billable"] is True
    assert str(books.uuid) in dict(form.fields["engagement"].choices)


@pytest.mark.parametrize("week", ["", "nonsense", "2027-02-30", "0001-01-01"])
def test_a_missing_or_bad_week_shows_this_week(cast, login_as, week):
    response = login_as(cast.sam).get(f"{URL}?week={week}")

    assert response.status_code == 200
    assert response.context["start"] == week_start(firm_today(cast.alpha))
    assert response.context["is_this_week"]


def test_the_week_links_go_back_and_forth(cast, login_as):
    response = login_as(cast.sam).get(_week())

    assert response.context["prev_url"] == f"{URL}?week=2027-02-22"
    assert response.context["next_url"] == f"{URL}?week=2027-03-08"


def test_an_empty_week_says_so(cast, login_as):
    html = login_as(cast.sam).get(_week()).content.decode()

    assert "No time recorded this week" in html
    assert "No entries this week." in html


# The quick add -------------------------------------------------------------------------


def test_the_quick_add_records_an_entry_and_shows_its_week(cast, login_as, acme, books):
    client = login_as(cast.sam)

    response = _post(
        client,
        date="2027-03-10",
        client=str(acme.uuid),
        engagement=str(books.uuid),
        duration="1:20",
        description="Payroll run",
    )

    [entry] = time_entries(cast.alpha)
    assert response.status_code == 302
    assert response.url == f"{URL}?week=2027-03-08"
    assert (entry.user_id, entry.client_id, entry.engagement_id) == (
        cast.sam.pk,
        acme.pk,
        books.pk,
    )
    assert (entry.date, entry.recorded_minutes, entry.minutes) == (
        dt.date(2027, 3, 10),
        80,
        84,
    )
    assert (entry.description, entry.billable) == ("Payroll run", True)
    page = client.get(response.url).content.decode()
    assert (
        "1:24 recorded for Acme Widgets (1:20 rounded by the firm&#x27;s 6-minute rule)"
        in page
    )


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("1.5", 90), ("1,25", 75), ("2h", 120), ("45m", 45), ("1h 30m", 90), ("0:06", 6)],
)
def test_time_is_typed_as_hours_or_minutes(cast, login_as, acme, typed, minutes):
    _post(login_as(cast.sam), client=str(acme.uuid), duration=typed)

    assert time_entries(cast.alpha)[0].recorded_minutes == minutes


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "This field is required."),
        ("-1", "Time cannot be negative."),
        ("0", "Enter a time above zero."),
        ("25", "One entry holds at most 24 hours."),
        ("lots", "Enter the time as hours (1.5)"),
    ],
)
def test_bad_time_is_refused_on_the_page(cast, login_as, acme, typed, message):
    response = _post(
        login_as(cast.sam), date="2027-03-03", client=str(acme.uuid), duration=typed
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["start"] == MONDAY  # the week the entry was for
    assert time_entries(cast.alpha) == []


def test_another_firms_client_is_not_a_choice(cast, login_as):
    theirs = make_client(cast.beta, "Beta's client")

    response = _post(login_as(cast.sam), client=str(theirs.uuid), duration="1")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert time_entries(cast.alpha) == [] and time_entries(cast.beta) == []


def test_another_clients_engagement_is_not_a_choice(cast, login_as, acme, books):
    other = make_client(cast.alpha, "Other Co")

    response = _post(
        login_as(cast.sam),
        client=str(other.uuid),
        engagement=str(books.uuid),
        duration="1",
    )

    assert response.status_code == 200
    assert time_entries(cast.alpha) == []


def test_staff_who_see_their_clients_only_record_time_for_them(cast, login_as, acme):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    hidden = make_client(cast.alpha, "Not Sam's", partner=cast.alice)
    client = login_as(cast.sam)

    choices = dict(client.get(_week()).context["form"].fields["client"].choices)
    response = _post(client, client=str(hidden.uuid), duration="1")

    assert str(acme.uuid) in choices and str(hidden.uuid) not in choices
    assert response.status_code == 200
    assert time_entries(cast.alpha) == []


def test_choosing_a_client_reloads_the_form_with_its_work(
    cast, login_as, acme, books, reconcile
):
    """htmx asks for the form alone, with the chosen client's engagements and tasks."""
    response = login_as(cast.sam).get(
        f"{_week()}&client={acme.uuid}&duration=2",
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    form = response.context["form"]
    assert "<html" not in html and 'name="duration"' in html
    assert (
        dict(form.fields["engagement"].choices)[str(books.uuid)] == "2026 bookkeeping"
    )
    assert (
        dict(form.fields["task"].choices)[str(reconcile.uuid)] == "Reconcile the bank"
    )
    assert form.initial["duration"] == "2"
    assert form.initial["billable"] is False  # the box was not ticked in the request


# Whose week ------------------------------------------------------------------------------


def test_staff_cannot_open_another_members_week(cast, login_as):
    mia = cast.membership(cast.mia, cast.alpha)

    response = login_as(cast.sam).get(f"{_week()}&member={mia.uuid}")

    assert response.status_code == 403


def test_a_manager_sees_and_fills_in_someone_elses_week(cast, login_as, acme, record):
    sam = cast.membership(cast.sam, cast.alpha)
    record(cast.sam, acme, 60, on=MONDAY)
    client = login_as(cast.mia)

    page = client.get(f"{_week()}&member={sam.uuid}")
    added = _post(client, member=str(sam.uuid), client=str(acme.uuid), duration="2")

    assert page.status_code == 200
    assert "Time of Sam Staff" in page.content.decode()
    assert page.context["grid"].total == 60
    assert added.url == f"{URL}?week=2027-03-01&member={sam.uuid}"
    assert [e.user_id for e in time_entries(cast.alpha)] == [cast.sam.pk, cast.sam.pk]


def test_a_member_of_another_firm_is_not_found(cast, login_as):
    oscar = cast.membership(cast.oscar, cast.beta)

    response = login_as(cast.mia).get(f"{_week()}&member={oscar.uuid}")

    assert response.status_code == 404


def test_a_former_members_week_is_shown_closed(cast, login_as, acme, record):
    gone = make_member(cast.alpha, "Gina Gone", "staff")
    record(gone, acme, 60, on=MONDAY)
    with tenant_context(cast.alpha):
        membership = cast.membership(gone, cast.alpha)
        membership.is_active = False
        membership.save()

    response = login_as(cast.mia).get(f"{_week()}&member={membership.uuid}")

    assert response.status_code == 200
    assert response.context["grid"].total == 60
    assert response.context["form"] is None


def test_a_read_only_member_sees_their_week_without_forms(cast, login_as):
    response = login_as(cast.rita).get(_week())

    assert response.status_code == 200
    assert response.context["form"] is None
    assert 'action="/o/alpha/billing/time/add/"' not in response.content.decode()


# Speed -------------------------------------------------------------------------------------


def test_the_week_costs_the_same_queries_for_3_or_40_rows(
    cast, login_as, acme, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(_week())  # the first request also writes the session
    for count in (3, 37):
        clients = [
            make_client(cast.alpha, f"Client {count}-{i}", staff=cast.sam)
            for i in range(count)
        ]
        with tenant_context(cast.alpha):
            TimeEntry.objects.bulk_create(
                TimeEntry(
                    organization=cast.alpha,
                    user=cast.sam,
                    client=c,
                    date=MONDAY + dt.timedelta(days=i % 7),
                    minutes=30,
                )
                for i, c in enumerate(clients)
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the week's entries with their
        # clients, engagements and tasks, 6 the clients for the quick add, 7 the
        # member's running timer, 8 reset the RLS context.
        with django_assert_num_queries(8):
            response = client.get(_week())
        assert response.status_code == 200
    assert len(response.context["grid"].rows) == 40


def test_a_managers_view_of_someone_costs_one_query_more(
    cast, login_as, django_assert_num_queries
):
    sam = cast.membership(cast.sam, cast.alpha)
    client = login_as(cast.mia)
    client.get(_week())
    # 1 session, 2 user, 3 the firm, 4 the member's firms, 5 the firm's members
    # (the picker, and whose week it is), 6 the week's entries, 7 the clients for
    # the quick add, 8 reset the RLS context (no timer: it is not the viewer's week).
    with django_assert_num_queries(8):
        response = client.get(f"{_week()}&member={sam.uuid}")
    assert response.context["member"].pk == sam.pk
