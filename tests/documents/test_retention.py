"""Retention: dates from the firm's policy, legal hold, the nightly sweep, and purge
with tombstones (real files in a temporary storage folder)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django_q.models import Schedule
from django_q.models import Task as QTask

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import Document, DocumentSettings, DocumentTombstone
from documents.services.retention import (
    document_legal_hold_set,
    document_purge,
    document_retention_refresh,
    documents_retention_recompute,
    documents_retention_sweep_firm,
    retention_date_for,
)
from documents.tasks_scheduled import documents_retention_sweep
from tests.documents.stored_documents import stored_document, stored_version
from tests.factories import make_client


def _policy(org, *, default_years=None, **by_category):
    with platform_bypass():
        if default_years is not None:
            org.document_retention_years = default_years
            org.save(update_fields=["document_retention_years"])
    with tenant_context(org):
        DocumentSettings.objects.update_or_create(
            organization=org, defaults={"retention_years_by_category": by_category}
        )


def _fresh(document):
    with platform_bypass():
        return Document.objects.filter(pk=document.pk).first()


def _events(org, action):
    with platform_bypass():
        return list(
            AuditEvent.objects.filter(organization=org, action=action).order_by("id")
        )


def _stored(document) -> bool:
    return default_storage.exists(document.file.name)


def _past(client, title="Old receipt", **fields):
    """A 2015 document: kept until 2022-12-31 under the default policy."""
    return stored_document(client, title=title, tax_year=2015, **fields)


def _uploaded_on(client, day: date, title: str) -> Document:
    """A document without a tax year uploaded at noon (firm time) on `day`."""
    zone = ZoneInfo(client.organization.timezone)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return stored_document(client, title=title, category="receipt", created_at=noon)


# Dates ----------------------------------------------------------------------------


def test_a_document_with_a_tax_year_is_kept_until_the_end_of_that_year_plus_seven(
    cast, jane
):
    w2 = stored_document(jane, tax_year=2020)

    with tenant_context(cast.alpha):
        assert retention_date_for(w2) == date(2027, 12, 31)


def test_without_a_tax_year_the_years_count_from_the_upload_day_in_the_firms_zone(
    cast, jane
):
    # 03:00 UTC on March 1st is still February 29th in New York.
    leap_evening = datetime(2024, 3, 1, 3, 0, tzinfo=UTC)
    receipt = stored_document(jane, category="receipt", created_at=leap_evening)
    morning = stored_document(
        jane, category="receipt", created_at=datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    )

    with tenant_context(cast.alpha):
        assert retention_date_for(receipt) == date(2031, 2, 28)
        assert retention_date_for(morning) == date(2031, 3, 1)


def test_a_category_override_beats_the_firms_default(cast, jane):
    _policy(cast.alpha, default_years=5, tax_return=10, engagement_letter=0)
    tax_return = stored_document(jane, category="tax_return", tax_year=2022)
    w2 = stored_document(jane, category="w2", tax_year=2022)
    letter = stored_document(jane, category="engagement_letter", tax_year=2022)

    with tenant_context(cast.alpha):
        assert retention_date_for(tax_return) == date(2032, 12, 31)
        assert retention_date_for(w2) == date(2027, 12, 31)
        assert retention_date_for(letter) is None  # 0 years: kept permanently


def test_the_bulk_recompute_gives_the_same_dates_as_the_rule(cast, jane):
    documents = [
        stored_document(jane, category="w2", tax_year=2019),
        stored_document(jane, category="receipt"),
        stored_document(
            jane, category="receipt", created_at=datetime(2024, 3, 1, 3, tzinfo=UTC)
        ),
        stored_document(jane, category="tax_return", tax_year=2020),
        stored_document(jane, category="other", retention_until=date(2000, 1, 1)),
    ]
    _policy(cast.alpha, default_years=6, receipt=3, tax_return=0)

    with tenant_context(cast.alpha):
        changed = documents_retention_recompute(organization=cast.alpha)
        expected = [retention_date_for(d) for d in documents]
        again = documents_retention_recompute(organization=cast.alpha)

    assert [_fresh(d).retention_until for d in documents] == expected
    assert expected[0] == date(2025, 12, 31)
    assert expected[2] == date(2027, 2, 28)  # Feb 29 in New York, plus 3 years
    assert expected[3] is None
    assert (changed, again) == (5, 0)


def test_refreshing_after_a_category_change_dates_every_version_again(cast, jane):
    _policy(cast.alpha, tax_return=10)
    first = stored_document(jane, category="other", tax_year=2010)
    second = stored_version(first)
    with platform_bypass():
        Document.objects.filter(pk__in=[first.pk, second.pk]).update(
            category="tax_return", archived_at=datetime(2025, 1, 1, tzinfo=UTC)
        )
    second.category = "tax_return"

    with tenant_context(cast.alpha):
        refreshed = document_retention_refresh(document=second)

    assert refreshed.retention_until == date(2020, 12, 31)
    assert _fresh(first).retention_until == date(2020, 12, 31)
    assert _fresh(second).archived_at is not None  # still past: still archived

    _policy(cast.alpha, tax_return=0)
    with tenant_context(cast.alpha):
        document_retention_refresh(document=second)
    assert (_fresh(second).retention_until, _fresh(second).archived_at) == (None, None)


# Legal hold -----------------------------------------------------------------------


def test_a_legal_hold_covers_every_version_and_is_audited(cast, jane):
    first = stored_document(jane, title="Contract")
    second = stored_version(first)

    with tenant_context(cast.alpha):
        document_legal_hold_set(
            document=first, on=True, reason="Smith v. Doe, 2026", by=cast.alice
        )

    assert {
        (_fresh(d).legal_hold, _fresh(d).legal_hold_reason) for d in (first, second)
    } == {(True, "Smith v. Doe, 2026")}
    [event] = _events(cast.alpha, AuditAction.DOCUMENT_LEGAL_HOLD)
    assert event.actor == cast.alice
    assert event.detail == {
        "document": str(second.uuid),
        "on": True,
        "reason": "Smith v. Doe, 2026",
        "versions": 2,
    }

    with tenant_context(cast.alpha):
        document_legal_hold_set(
            document=second, on=False, reason="Settled", by=cast.adam
        )

    assert not _fresh(first).legal_hold and not _fresh(second).legal_hold
    assert [
        e.detail["on"] for e in _events(cast.alpha, AuditAction.DOCUMENT_LEGAL_HOLD)
    ] == [
        True,
        False,
    ]


def test_a_legal_hold_needs_a_reason(cast, jane):
    document = stored_document(jane)

    with tenant_context(cast.alpha), pytest.raises(ValidationError):
        document_legal_hold_set(document=document, on=True, reason=" ", by=cast.alice)

    assert not _fresh(document).legal_hold
    assert _events(cast.alpha, AuditAction.DOCUMENT_LEGAL_HOLD) == []


# The nightly sweep ----------------------------------------------------------------


def test_the_sweep_archives_only_what_is_past_retention_and_not_on_hold(
    cast, jane, run_schedule
):
    today = firm_today(cast.alpha)
    due = _past(jane, "Due")
    held = _past(jane, "Held", legal_hold=True, legal_hold_reason="IRS audit")
    ends_today = _uploaded_on(jane, today.replace(year=today.year - 7), "Ends today")
    ended = _uploaded_on(jane, today.replace(year=today.year - 8), "Ended a year ago")
    older_version = _past(jane, "Lineage")
    latest = stored_version(older_version)

    assert run_schedule(documents_retention_sweep) == 3

    assert _fresh(due).archived_at is not None
    assert _fresh(ended).archived_at is not None
    assert _fresh(latest).archived_at is not None
    assert _fresh(older_version).archived_at is None  # the lineage shows its latest
    assert _fresh(held).archived_at is None
    assert _fresh(ends_today).archived_at is None
    [event] = _events(cast.alpha, AuditAction.DOCUMENTS_ARCHIVED)
    assert event.detail["count"] == 3
    assert event.actor is None  # the system did it


def test_a_second_sweep_archives_nothing_more_and_records_nothing(
    cast, jane, run_schedule
):
    _past(jane)

    assert run_schedule(documents_retention_sweep) == 1
    assert run_schedule(documents_retention_sweep) == 0

    assert len(_events(cast.alpha, AuditAction.DOCUMENTS_ARCHIVED)) == 1


def test_the_sweep_applies_a_policy_change_before_archiving(cast, jane):
    receipt = _past(jane, category="receipt")
    w2 = stored_document(jane, category="w2", tax_year=2023)  # until 2030
    with tenant_context(cast.alpha):
        documents_retention_sweep_firm(organization=cast.alpha)
    assert _fresh(receipt).archived_at is not None

    _policy(cast.alpha, receipt=20, w2=1)
    with tenant_context(cast.alpha):
        documents_retention_sweep_firm(organization=cast.alpha)

    assert _fresh(receipt).retention_until == date(2035, 12, 31)
    assert _fresh(receipt).archived_at is None  # back inside its period
    assert _fresh(w2).retention_until == date(2024, 12, 31)
    assert _fresh(w2).archived_at is not None


def test_each_firm_is_swept_in_its_own_context(cast, jane, run_schedule):
    _past(jane)
    _past(make_client(cast.beta, "Beta Client"))
    _past(make_client(cast.beta, "Beta Two"))

    assert run_schedule(documents_retention_sweep) == 3

    assert _events(cast.alpha, AuditAction.DOCUMENTS_ARCHIVED)[0].detail["count"] == 1
    assert _events(cast.beta, AuditAction.DOCUMENTS_ARCHIVED)[0].detail["count"] == 2


def test_the_schedule_queues_one_retention_job_per_firm_with_documents(
    cast, jane, django_capture_on_commit_callbacks
):
    _past(jane)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert documents_retention_sweep() == 1  # Beta has no documents

    assert len(queued) == 1
    [task] = QTask.objects.all()
    assert task.args == (
        "documents.tasks_scheduled.documents_retention_job",
        cast.alpha.pk,
        {},
    )
    assert task.result == 1


def test_setup_schedules_adds_the_daily_sweep(db):
    call_command("setup_schedules", stdout=io.StringIO())

    [schedule] = Schedule.objects.filter(
        func="documents.tasks_scheduled.documents_retention_sweep"
    )
    assert (schedule.minutes, schedule.repeats) == (24 * 60, -1)


# Purge ----------------------------------------------------------------------------


def _purge(documents, by, reason="Past the firm's retention period"):
    with tenant_context(documents[0].organization):
        return document_purge(documents=documents, by=by, reason=reason)


def test_a_purge_deletes_every_versions_file_and_row_and_keeps_tombstones(
    cast, jane, media_root, django_capture_on_commit_callbacks
):
    first = _past(jane, "Old bank statement", category="bank_statement")
    second = stored_version(first)
    other = _past(jane, "Old receipt")
    kept = stored_document(jane, title="Recent")
    files = [media_root / d.file.name for d in (first, second, other)]
    assert all(path.is_file() for path in files)  # in the storage folder

    with django_capture_on_commit_callbacks(execute=True):
        tombstones = _purge([second, other], cast.adam)

    assert not any(path.exists() for path in files)
    assert (media_root / kept.file.name).is_file()
    assert [_fresh(d) for d in (first, second, other)] == [None, None, None]
    assert _fresh(kept) is not None
    with tenant_context(cast.alpha):
        stored = list(DocumentTombstone.objects.order_by("document_uuid"))
    assert len(tombstones) == len(stored) == 3
    by_uuid = {t.document_uuid: t for t in stored}
    old = by_uuid[first.uuid]
    assert (old.title, old.version, old.checksum, old.size) == (
        "Old bank statement",
        1,
        first.checksum,
        first.size,
    )
    assert by_uuid[second.uuid].version == 2
    assert old.client_name == "Jane Doe"
    assert (old.purged_by, old.purged_by_email) == (cast.adam, "adam@alpha.test")
    assert old.reason == "Past the firm's retention period"
    assert old.retention_until == date(2022, 12, 31)
    events = _events(cast.alpha, AuditAction.DOCUMENT_PURGED)
    assert len(events) == 2  # one per document, whatever its versions
    statement = next(e for e in events if e.detail["document"] == str(second.uuid))
    assert statement.actor == cast.adam
    assert statement.detail["checksum"] == second.checksum
    assert [v["checksum"] for v in statement.detail["versions"]] == [
        first.checksum,
        second.checksum,
    ]


def test_a_legal_hold_blocks_the_purge_of_anything(cast, jane):
    free = _past(jane, "Free")
    held = _past(jane, "Held")
    with tenant_context(cast.alpha):
        document_legal_hold_set(document=held, on=True, reason="Claim", by=cast.alice)

    with pytest.raises(ValidationError) as exc:
        _purge([free, held], cast.alice)

    assert exc.value.messages == ["“Held” is on legal hold."]
    assert _fresh(free) is not None and _fresh(held) is not None
    assert _stored(free) and _stored(held)
    with tenant_context(cast.alpha):
        assert not DocumentTombstone.objects.exists()
    assert _events(cast.alpha, AuditAction.DOCUMENT_PURGED) == []


def test_a_document_inside_its_retention_period_cannot_be_purged(cast, jane):
    recent = stored_document(jane, title="Recent", tax_year=2025)

    with pytest.raises(ValidationError, match="is kept until Dec 31, 2032"):
        _purge([recent], cast.alice)

    assert _stored(recent) and _fresh(recent) is not None


def test_only_an_owner_or_admin_may_purge(cast, jane):
    old = _past(jane)

    with pytest.raises(PermissionDenied):
        _purge([old], cast.sam)

    assert _fresh(old) is not None


def test_a_purge_needs_a_reason(cast, jane):
    old = _past(jane)

    with pytest.raises(ValidationError):
        _purge([old], cast.alice, reason="  ")

    assert _fresh(old) is not None


@pytest.fixture
def refusing_trigger(owner_cursor):
    """Made by the owner role (the app's may not): dropped again afterwards."""
    yield owner_cursor
    owner_cursor.execute(
        "DROP TRIGGER IF EXISTS test_refuse_delete ON documents_document;"
        " DROP FUNCTION IF EXISTS test_refuse_delete();"
    )


def test_a_purge_that_fails_midway_loses_nothing(cast, jane, refusing_trigger):
    first = _past(jane, "First")
    second = _past(jane, "Second")
    # A real failure in the middle of the purge: the database refuses to delete
    # the second document's row, after the tombstones and audit events are written.
    refusing_trigger.execute(
        """
        CREATE FUNCTION test_refuse_delete() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER test_refuse_delete BEFORE DELETE ON documents_document
        FOR EACH ROW WHEN (OLD.title = 'Second')
        EXECUTE FUNCTION test_refuse_delete();
        """
    )

    with pytest.raises(Exception, match="disk on fire"):
        _purge([first, second], cast.alice)

    assert _fresh(first) is not None and _fresh(second) is not None
    assert _stored(first) and _stored(second)
    with tenant_context(cast.alpha):
        assert not DocumentTombstone.objects.exists()
    assert _events(cast.alpha, AuditAction.DOCUMENT_PURGED) == []
