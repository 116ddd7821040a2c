"""Time entries through the services: made, edited, deleted; billed time and
bad input refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from billing.models import TimeEntry
from billing.services.invoices import invoice_add_time, invoice_create, invoice_issue
from billing.services.time import (
    time_entry_create,
    time_entry_delete,
    time_entry_update,
)
from clients.models import Engagement
from tests.factories import make_client, make_member, time_entries
from workflows.models import Task

TODAY = dt.date(2027, 3, 3)


def _create(cast, client, minutes=60, **kw):
    kw.setdefault("user", cast.sam)
    with tenant_context(cast.alpha):
        return time_entry_create(
            organization=cast.alpha, client=client, date=TODAY, minutes=minutes, **kw
        )


def _update(cast, entry, **changes):
    values = {
        "client": entry.client,
        "date": entry.date,
        "minutes": entry.minutes,
        "engagement": entry.engagement,
        "task": entry.task,
        "description": entry.description,
        "billable": entry.billable,
        **changes,
    }
    with tenant_context(cast.alpha):
        return time_entry_update(entry=entry, **values)


def _bill(cast, client, *, issue: bool):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=client, by=cast.alice)
        invoice_add_time(invoice=invoice, by=cast.alice)
        if issue:
            invoice = invoice_issue(invoice=invoice, by=cast.alice)
        return invoice


def test_an_entry_is_made_with_its_work_and_rates(cast, acme, books, reconcile):
    entry = _create(
        cast,
        acme,
        45,
        engagement=books,
        task=reconcile,
        description="  Bank feeds  ",
        billable=False,
    )

    [saved] = time_entries(cast.alpha)
    assert saved.pk == entry.pk
    assert (saved.user_id, saved.client_id, saved.engagement_id, saved.task_id) == (
        cast.sam.pk,
        acme.pk,
        books.pk,
        reconcile.pk,
    )
    assert (saved.date, saved.minutes, saved.recorded_minutes) == (TODAY, 48, 45)
    assert saved.description == "Bank feeds"
    assert saved.billable is False
    assert saved.rate == Decimal("150.00")  # the firm's default


def test_time_on_a_task_counts_against_its_engagement(cast, acme, books, reconcile):
    entry = _create(cast, acme, task=reconcile)

    assert entry.engagement_id == books.pk


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (-30, "cannot be negative"),
        (0, "Enter the time spent"),
        (24 * 60 + 1, "at most 24 hours"),
    ],
)
def test_impossible_minutes_are_refused(cast, acme, minutes, message):
    with pytest.raises(ValidationError) as caught:
        _create(cast, acme, minutes)

    assert message in str(caught.value)
    assert time_entries(cast.alpha) == []


def test_a_whole_day_is_the_most_one_entry_holds(cast, acme):
    assert _create(cast, acme, 24 * 60).minutes == 24 * 60


def test_a_persons_day_holds_at_most_24_hours(cast, acme):
    _create(cast, acme, minutes=20 * 60)

    with pytest.raises(ValidationError, match=r"Mar 3 already has 20 h 00 min"):
        _create(cast, acme, minutes=4 * 60 + 6)

    last = _create(cast, acme, minutes=4 * 60)  # exactly 24 hours
    _create(cast, acme, minutes=8 * 60, user=cast.alice)  # someone else's day
    with pytest.raises(ValidationError, match=r"20 h 00 min recorded.*4 h 00 min left"):
        _update(cast, last, minutes=4 * 60 + 30)
    moved = _update(cast, last, date=TODAY + dt.timedelta(days=1), minutes=5 * 60)
    assert (moved.date, moved.minutes) == (TODAY + dt.timedelta(days=1), 300)
    _update(cast, moved, description="Same day, same time: no check needed")


def test_the_database_refuses_more_than_a_day_too(cast, acme):
    entry = _create(cast, acme, 60)

    with tenant_context(cast.alpha):
        with pytest.raises(IntegrityError), transaction.atomic():
            TimeEntry.objects.filter(pk=entry.pk).update(minutes=24 * 60 + 6)


def test_another_firms_client_is_refused(cast):
    theirs = make_client(cast.beta, "Beta's client")

    with pytest.raises(ValidationError) as caught:
        _create(cast, theirs)

    assert "client of the firm" in str(caught.value)


def test_another_firms_engagement_and_task_are_refused(cast, acme):
    theirs = make_client(cast.beta, "Beta's client")
    with tenant_context(cast.beta):
        engagement = Engagement.objects.create(
            organization=cast.beta,
            client=theirs,
            name="Theirs",
            engagement_type="advisory",
        )
        task = Task.objects.create(organization=cast.beta, client=theirs, title="T")

    with pytest.raises(ValidationError) as engagement_error:
        _create(cast, acme, engagement=engagement)
    with pytest.raises(ValidationError) as task_error:
        _create(cast, acme, task=task)

    assert "engagement of the firm" in str(engagement_error.value)
    assert "task of the firm" in str(task_error.value)
    assert time_entries(cast.alpha) == []


def test_another_clients_engagement_or_task_is_refused(cast, acme, books, reconcile):
    other = make_client(cast.alpha, "Other Co")

    with pytest.raises(ValidationError) as engagement_error:
        _create(cast, other, engagement=books)
    with pytest.raises(ValidationError) as task_error:
        _create(cast, other, task=reconcile)

    assert "not Other Co's" in str(engagement_error.value)
    assert "another client's" in str(task_error.value)


def test_a_task_of_another_engagement_is_refused(cast, acme, books, reconcile):
    with tenant_context(cast.alpha):
        advisory = Engagement.objects.create(
            organization=cast.alpha,
            client=acme,
            name="Advisory",
            engagement_type="advisory",
        )

    with pytest.raises(ValidationError) as caught:
        _create(cast, acme, engagement=advisory, task=reconcile)

    assert "another engagement" in str(caught.value)


def test_only_the_firms_active_members_record_time(cast, acme):
    gone = make_member(cast.alpha, "Gina Gone", "staff", is_active=False)

    with pytest.raises(ValidationError):
        _create(cast, acme, user=gone)
    with pytest.raises(ValidationError):
        _create(cast, acme, user=cast.oscar)


def test_an_edit_rounds_new_minutes_and_keeps_unchanged_ones(cast, acme, books):
    entry = _create(cast, acme, 61)  # 66 rounded
    with tenant_context(cast.alpha):
        TimeEntry.objects.filter(pk=entry.pk).update(recorded_minutes=3000)

    kept = _update(cast, entry, description="Same time")
    changed = _update(cast, kept, minutes=100, engagement=books)

    assert (kept.minutes, kept.recorded_minutes) == (66, 3000)
    assert (changed.minutes, changed.recorded_minutes) == (102, 100)
    assert changed.engagement_id == books.pk


def test_an_edit_is_checked_like_a_new_entry(cast, acme, books):
    entry = _create(cast, acme, 60)
    other = make_client(cast.alpha, "Other Co")

    with pytest.raises(ValidationError):
        _update(cast, entry, minutes=-1)
    with pytest.raises(ValidationError):
        _update(cast, entry, client=other, engagement=books)

    [unchanged] = time_entries(cast.alpha)
    assert (unchanged.client_id, unchanged.minutes) == (acme.pk, 60)


def test_an_entry_is_deleted(cast, acme):
    entry = _create(cast, acme)

    with tenant_context(cast.alpha):
        time_entry_delete(entry=entry)

    assert time_entries(cast.alpha) == []


@pytest.mark.parametrize("issue", [False, True], ids=["draft", "issued"])
def test_billed_time_is_read_only(cast, acme, issue):
    entry = _create(cast, acme, 60, description="Payroll")
    invoice = _bill(cast, acme, issue=issue)

    with pytest.raises(ValidationError) as edit:
        _update(cast, entry, minutes=5, description="Changed")
    with pytest.raises(ValidationError) as delete, tenant_context(cast.alpha):
        time_entry_delete(entry=entry)

    [kept] = time_entries(cast.alpha)
    assert (kept.minutes, kept.description) == (60, "Payroll")
    assert kept.invoice_line_id is not None
    expected = (
        invoice.display_number if issue else "draft invoice: take it off the invoice"
    )
    assert expected in str(edit.value)
    assert expected in str(delete.value)


def test_an_entry_billed_after_it_was_loaded_is_still_refused(cast, acme):
    entry = _create(cast, acme, 60)  # loaded before the invoice takes it
    _bill(cast, acme, issue=True)

    with pytest.raises(ValidationError):
        _update(cast, entry, minutes=5)
    with pytest.raises(ValidationError), tenant_context(cast.alpha):
        time_entry_delete(entry=entry)

    assert time_entries(cast.alpha)[0].minutes == 60


def test_an_entry_records_the_date_given(cast, acme):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with tenant_context(cast.alpha):
        entry = time_entry_create(
            organization=cast.alpha,
            user=cast.sam,
            client=acme,
            date=yesterday,
            minutes=30,
        )

    assert entry.date == yesterday
