"""The running timer: one per person, stopped into an entry, discarded, capped."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from billing.models import MemberRate
from billing.services.rates import member_rate_set
from billing.services.time import timer_discard, timer_start, timer_stop
from tests.factories import make_client, run_timer_back, time_entries, timers


def _start(cast, client, user=None, **kw):
    with tenant_context(cast.alpha):
        return timer_start(
            organization=cast.alpha, user=user or cast.sam, client=client, **kw
        )


def _stop(cast, user=None):
    with tenant_context(cast.alpha):
        return timer_stop(organization=cast.alpha, user=user or cast.sam)


def test_a_started_timer_is_a_row_of_its_own(cast, acme, books, reconcile):
    timer, stopped = _start(
        cast, acme, task=reconcile, description="Close", billable=False
    )

    [saved] = timers(cast.alpha)
    assert stopped is None
    assert saved.pk == timer.pk
    assert (saved.user_id, saved.client_id, saved.engagement_id, saved.task_id) == (
        cast.sam.pk,
        acme.pk,
        books.pk,  # from the task's workflow
        reconcile.pk,
    )
    assert (saved.description, saved.billable) == ("Close", False)
    assert time_entries(cast.alpha) == []


def test_stopping_records_the_time_rounded_at_the_rates_of_now(cast, acme, books):
    _start(cast, acme, engagement=books, description="Ledger")
    run_timer_back(cast.sam, cast.alpha, 47)
    with tenant_context(cast.alpha):
        member_rate_set(
            membership=cast.membership(cast.sam, cast.alpha),
            billing_rate=Decimal("130"),
            cost_rate=Decimal("50"),
            weekly_capacity_hours=40,
        )

    stopped = _stop(cast)

    [entry] = time_entries(cast.alpha)
    assert stopped.entry.pk == entry.pk
    assert (entry.recorded_minutes, entry.minutes) == (47, 48)
    assert (entry.rate, entry.cost_rate) == (Decimal("130"), Decimal("50"))
    assert (entry.engagement_id, entry.description, entry.billable) == (
        books.pk,
        "Ledger",
        True,
    )
    assert timers(cast.alpha) == []
    assert not stopped.capped


def test_the_entry_is_dated_the_firms_day_the_timer_started(cast, acme):
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 30)
    [timer] = timers(cast.alpha)
    firm_day = timer.started_at.astimezone(
        zoneinfo.ZoneInfo(cast.alpha.timezone)
    ).date()

    stopped = _stop(cast)

    assert stopped.entry.date == firm_day


def test_a_timer_survives_until_it_is_stopped(cast, acme, login_as):
    """It is a row: a reload, another tab or another device finds it."""
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 90)

    html = login_as(cast.sam).get("/o/alpha/billing/timer/badge/").content.decode()

    assert "Acme Widgets" in html
    assert 'data-timer-elapsed="54' in html  # 90 minutes: 5400 seconds and a bit


def test_starting_another_timer_stops_the_running_one_into_an_entry(cast, acme):
    other = make_client(cast.alpha, "Other Co")
    _start(cast, acme, description="First")
    run_timer_back(cast.sam, cast.alpha, 20)

    timer, stopped = _start(cast, other, description="Second")

    [entry] = time_entries(cast.alpha)
    [running] = timers(cast.alpha)
    assert (entry.client_id, entry.minutes, entry.description) == (acme.pk, 24, "First")
    assert stopped.entry.pk == entry.pk and stopped.client_name == "Acme Widgets"
    assert running.pk == timer.pk and running.client_id == other.pk


def test_each_person_has_their_own_timer(cast, acme):
    _start(cast, acme)
    _start(cast, acme, user=cast.mia)

    assert {t.user_id for t in timers(cast.alpha)} == {cast.sam.pk, cast.mia.pk}
    assert time_entries(cast.alpha) == []


def test_a_timer_over_a_day_records_a_day(cast, acme):
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 51 * 60 + 20)

    stopped = _stop(cast)

    [entry] = time_entries(cast.alpha)
    assert stopped.capped
    assert entry.minutes == 24 * 60
    assert entry.recorded_minutes == 51 * 60 + 20  # how long it really ran
    assert stopped.elapsed_minutes == 51 * 60 + 20


def test_a_timer_records_no_more_than_is_left_of_its_day(cast, acme):
    from billing.services.time import time_entry_create

    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 2 * 60)
    timer = timers(cast.alpha)[0]
    day = timer.started_at.astimezone(zoneinfo.ZoneInfo(cast.alpha.timezone)).date()
    with tenant_context(cast.alpha):
        time_entry_create(
            organization=cast.alpha, user=cast.sam, client=acme, date=day,
            minutes=23 * 60 + 30,
        )  # fmt: skip

    _stop(cast)

    entry = max(time_entries(cast.alpha), key=lambda e: e.pk)
    assert (entry.minutes, entry.recorded_minutes) == (30, 120)


def test_a_timer_stopped_at_once_records_nothing(cast, acme):
    _start(cast, acme)

    stopped = _stop(cast)

    assert stopped.entry is None
    assert time_entries(cast.alpha) == []
    assert timers(cast.alpha) == []


def test_nearest_rounding_can_round_a_short_timer_to_nothing(cast, acme):
    with tenant_context(cast.alpha):
        from billing.selectors import billing_settings

        settings = billing_settings(cast.alpha)
        settings.time_rounding = "nearest"
        settings.save()
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 2)

    stopped = _stop(cast)

    assert stopped.entry is None and stopped.elapsed_minutes == 2
    assert time_entries(cast.alpha) == []


def test_stopping_twice_records_once(cast, acme):
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 10)
    _stop(cast)

    with pytest.raises(ValidationError) as caught:
        _stop(cast)

    assert "No timer is running" in str(caught.value)
    assert len(time_entries(cast.alpha)) == 1


def test_a_discarded_timer_records_nothing(cast, acme):
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 30)

    with tenant_context(cast.alpha):
        discarded = timer_discard(organization=cast.alpha, user=cast.sam)
        again = timer_discard(organization=cast.alpha, user=cast.sam)

    assert (discarded, again) == (True, False)
    assert timers(cast.alpha) == []
    assert time_entries(cast.alpha) == []


def test_a_timer_for_another_firms_client_is_refused(cast):
    theirs = make_client(cast.beta, "Beta's client")

    with pytest.raises(ValidationError):
        _start(cast, theirs)

    assert timers(cast.alpha) == []


def test_a_refused_start_leaves_the_running_timer_alone(cast, acme, books):
    other = make_client(cast.alpha, "Other Co")
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 30)

    with pytest.raises(ValidationError):
        _start(cast, other, engagement=books)  # books is Acme's

    [still] = timers(cast.alpha)
    assert still.client_id == acme.pk
    assert time_entries(cast.alpha) == []


def test_the_rates_are_read_when_the_timer_stops(cast, acme):
    """The entry is recorded at stop: the rate of that moment, as for a typed one."""
    _start(cast, acme)
    run_timer_back(cast.sam, cast.alpha, 60)
    with tenant_context(cast.alpha):
        MemberRate.objects.create(
            organization=cast.alpha,
            membership=cast.membership(cast.sam, cast.alpha),
            billing_rate=Decimal("99"),
        )

    assert _stop(cast).entry.rate == Decimal("99")


def test_started_at_is_now(cast, acme):
    before = timezone.now()
    timer, _ = _start(cast, acme)

    assert before <= timer.started_at <= timezone.now() + dt.timedelta(seconds=1)
