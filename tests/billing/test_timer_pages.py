"""The timer on the pages: the header's badge, start, stop and discard."""

from __future__ import annotations

import pytest

from tests.factories import make_client, run_timer_back, time_entries, timers

BADGE = "/o/alpha/billing/timer/badge/"
START = "/o/alpha/billing/timer/start/"
STOP = "/o/alpha/billing/timer/stop/"
DISCARD = "/o/alpha/billing/timer/discard/"
TIMESHEET = "/o/alpha/billing/time/"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_every_staff_page_has_the_timer_slot_filled_in_by_htmx(cast, login_as):
    html = login_as(cast.sam).get("/o/alpha/").content.decode()

    assert (
        '<span class="timer-slot" hx-get="/o/alpha/billing/timer/badge/" '
        'hx-trigger="load"' in html
    )
    assert '<script src="/static/js/timer.js" defer></script>' in html


def test_the_badge_is_empty_with_no_timer(cast, login_as):
    html = login_as(cast.sam).get(BADGE).content.decode()

    assert html.strip() == '<span class="timer-slot" data-testid="timer-slot"></span>'


def test_the_badge_shows_the_client_the_time_and_a_stop_button(cast, login_as, acme):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid), "billable": "on"})
    run_timer_back(cast.sam, cast.alpha, 75)

    response = client.get(
        BADGE,
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/o/alpha/clients/?q=a",
        },
    )

    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert 'class="timer-client">Acme Widgets<' in html
    assert 'role="timer" data-timer-elapsed="45' in html  # 75 minutes: 4500 s
    assert ">1:15:0" in html
    assert 'action="/o/alpha/billing/timer/stop/"' in html
    assert 'name="next" value="/o/alpha/clients/?q=a"' in html


def test_someone_elses_timer_is_not_in_your_badge(cast, login_as, acme):
    login_as(cast.mia).post(START, {"client": str(acme.uuid)})

    html = login_as(cast.sam).get(BADGE).content.decode()

    assert "Acme" not in html


def test_the_badge_is_one_query(cast, login_as, acme, django_assert_num_queries):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid)})
    client.get(BADGE)
    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's firms
    # (the membership and the switcher), 5 the timer with its client, 6 reset the
    # RLS context.
    with django_assert_num_queries(6):
        client.get(BADGE)


def test_a_read_only_member_has_no_timer_to_ask_for(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.rita)
    client.get(BADGE)
    # 1 session, 2 user, 3 the firm, 4 the member's firms, 5 reset the RLS context.
    with django_assert_num_queries(5):
        response = client.get(BADGE)
    assert response.status_code == 200


def test_start_from_the_timesheet_form_goes_back_to_it(cast, login_as, acme, books):
    client = login_as(cast.sam)

    response = client.post(
        START,
        {
            "client": str(acme.uuid),
            "engagement": str(books.uuid),
            "description": "Ledger",
            "billable": "on",
            "duration": "",  # the quick add's other fields come along
            "next": f"{TIMESHEET}?week=2027-03-01",
        },
    )

    [timer] = timers(cast.alpha)
    assert response.url == f"{TIMESHEET}?week=2027-03-01"
    assert (timer.user_id, timer.client_id, timer.engagement_id) == (
        cast.sam.pk,
        acme.pk,
        books.pk,
    )
    assert (timer.description, timer.billable) == ("Ledger", True)
    assert _messages(client.get(response.url)) == ["Timer started for Acme Widgets."]


def test_the_timer_shows_on_the_timesheet_after_a_reload(cast, login_as, acme):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid)})

    html = client.get(TIMESHEET).content.decode()

    assert 'data-testid="timer-panel"' in html
    assert "<strong>Timer running</strong> for Acme Widgets" in html


def test_starting_while_one_runs_stops_it_into_an_entry(cast, login_as, acme):
    other = make_client(cast.alpha, "Other Co")
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid), "billable": "on"}, follow=True)
    run_timer_back(cast.sam, cast.alpha, 30)

    response = client.post(START, {"client": str(other.uuid)}, follow=True)

    [entry] = time_entries(cast.alpha)
    [timer] = timers(cast.alpha)
    assert (entry.client_id, entry.minutes) == (acme.pk, 30)
    assert timer.client_id == other.pk
    assert _messages(response) == [
        "Timer stopped: 0:30 recorded for Acme Widgets.",
        "Timer started for Other Co.",
    ]


def test_stop_records_the_entry_and_says_so(cast, login_as, acme):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid), "billable": "on"}, follow=True)
    run_timer_back(cast.sam, cast.alpha, 50)

    response = client.post(STOP, {"next": "/o/alpha/clients/"}, follow=True)

    assert response.redirect_chain[0][0] == "/o/alpha/clients/"
    assert _messages(response) == ["Timer stopped: 0:54 recorded for Acme Widgets."]
    assert [e.minutes for e in time_entries(cast.alpha)] == [54]
    assert timers(cast.alpha) == []


def test_a_timer_over_a_day_is_capped_and_flagged(cast, login_as, acme):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid)}, follow=True)
    run_timer_back(cast.sam, cast.alpha, 60 * 60)

    response = client.post(STOP, follow=True)

    [message] = _messages(response)
    assert "ran 60:00, more than a day" in message
    assert "24:00 was recorded" in message
    assert [e.minutes for e in time_entries(cast.alpha)] == [1440]


def test_stop_with_no_timer_changes_nothing(cast, login_as):
    response = login_as(cast.sam).post(STOP, follow=True)

    assert _messages(response) == ["No timer is running."]
    assert time_entries(cast.alpha) == []


def test_discard_records_nothing(cast, login_as, acme):
    client = login_as(cast.sam)
    client.post(START, {"client": str(acme.uuid)}, follow=True)
    run_timer_back(cast.sam, cast.alpha, 50)

    response = client.post(DISCARD, follow=True)

    assert _messages(response) == ["Timer discarded: nothing was recorded."]
    assert timers(cast.alpha) == [] and time_entries(cast.alpha) == []


def test_a_timer_for_another_firms_client_does_not_start(cast, login_as):
    theirs = make_client(cast.beta, "Beta's client")

    response = login_as(cast.sam).post(START, {"client": str(theirs.uuid)}, follow=True)

    [message] = _messages(response)
    assert message.startswith("The timer did not start: Select a valid choice.")
    assert timers(cast.alpha) == [] and timers(cast.beta) == []


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/o/alpha/", "/o/beta/", "/admin/"],
)
def test_next_stays_on_the_firms_pages(cast, login_as, target):
    response = login_as(cast.sam).post(STOP, {"next": target})

    assert response.url == TIMESHEET


@pytest.mark.parametrize("url", [START, STOP, DISCARD])
def test_a_read_only_member_cannot_use_a_timer(cast, login_as, acme, url):
    response = login_as(cast.rita).post(url, {"client": str(acme.uuid)})

    assert response.status_code == 403
    assert timers(cast.alpha) == []
