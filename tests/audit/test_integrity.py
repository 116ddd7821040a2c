"""The keyed, anchored audit trail: what an attacker holding the database owner's
rights (but not the audit key or the file store) can no longer do quietly.

Tampering goes through the `tamper` fixture (tests/audit/conftest.py): the owner
switches the append-only triggers and row-level security off, rewrites, and
switches them on again.
"""

from __future__ import annotations

import hashlib
import importlib
import json

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from advisoros.audit.chain import KEYED, LEGACY, event_digest, event_payload
from advisoros.audit.integrity import (
    changelog_seal,
    checkpoint_create,
    integrity_verify,
    latest_checkpoint_name,
)
from advisoros.audit.keys import key_id
from advisoros.audit.models import AuditAction, AuditEvent, ChangeLogSeal, LogEntry
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import platform_bypass, tenant_context
from tests.factories import make_client


@pytest.fixture
def trail(cast):
    """Alpha with a few sign-ins and client changes, sealed and checkpointed."""
    for user in (cast.alice, cast.sam, cast.rita):
        audit_event_record(
            action=AuditAction.LOGIN_SUCCESS, organizations=[cast.alpha], actor=user
        )
    make_client(cast.alpha, "Jane Doe")
    make_client(cast.alpha, "John Roe")
    with tenant_context(cast.alpha):
        checkpoint_create(organization=cast.alpha)
    return cast


def _verify(org):
    with tenant_context(org):
        return integrity_verify(organization=org)


def _events(org) -> list[AuditEvent]:
    with platform_bypass():
        return list(AuditEvent.objects.filter(organization=org).order_by("sequence"))


def _entries(org) -> list[LogEntry]:
    with platform_bypass():
        return list(LogEntry.objects.filter(organization=org).order_by("id"))


def test_new_events_are_keyed(trail):
    events = _events(trail.alpha)
    assert {e.chain_version for e in events} == {KEYED}
    # Not the plain SHA-256 of the same content: recomputing needs the key.
    first = events[0]
    first.chain_version = LEGACY
    assert event_digest(first) != events[0].hash


def test_an_untouched_trail_is_intact_and_matches_its_checkpoint(trail, capsys):
    report = _verify(trail.alpha)

    assert report.problems == []
    assert report.events.events == 4
    assert report.seals.seals == 1
    assert report.seals.sealed_entries == len(_entries(trail.alpha))
    assert report.checkpoint.events == 4
    call_command("audit_verify", firm="alpha")
    out = capsys.readouterr().out
    assert "Alpha Accounting: 4 events, chain intact" in out
    assert f"change log {report.seals.sealed_entries} entries in 1 seals, intact" in out
    assert "the database matches the last checkpoint" in out


def test_the_checkpoint_file_is_signed_json_in_the_file_store(trail):
    name = latest_checkpoint_name(trail.alpha)
    assert name.startswith(f"audit-checkpoints/{trail.alpha.uuid}/")
    with default_storage.open(name) as fh:
        data = json.load(fh)
    assert data["organization"]["slug"] == "alpha"
    assert data["events"]["count"] == 4
    assert data["events"]["head_digest"] == _events(trail.alpha)[-1].hash
    assert data["changes"]["seals"] == 1
    assert data["key_id"] == key_id()
    assert len(data["signature"]) == 64


def test_entries_written_after_the_seal_wait_for_the_next_one(trail):
    make_client(trail.alpha, "Late Larry")

    report = _verify(trail.alpha)
    assert report.problems == []
    assert report.seals.unsealed_entries > 0

    with tenant_context(trail.alpha):
        [seal] = changelog_seal(organization_id=trail.alpha.pk)
    assert seal.sequence == 2
    report = _verify(trail.alpha)
    assert (report.problems, report.seals.unsealed_entries) == ([], 0)


def test_an_unchanged_trail_gets_no_new_checkpoint_file(trail):
    with tenant_context(trail.alpha):
        assert checkpoint_create(organization=trail.alpha) is None
        assert checkpoint_create(organization=trail.alpha, force=True) is not None


# Security events ---------------------------------------------------------------


def test_an_edited_event_is_reported(trail, tamper):
    event = _events(trail.alpha)[1]
    tamper(
        ["audit_auditevent"],
        "UPDATE audit_auditevent SET actor_email = 'nobody@evil.test' WHERE id = %s",
        [event.pk],
    )

    report = _verify(trail.alpha)

    assert report.problems == [
        f"event {event.uuid} (#2): content does not match its hash (altered)"
    ]


def test_a_deleted_event_is_reported(trail, tamper):
    event = _events(trail.alpha)[1]
    tamper(
        ["audit_auditevent"],
        "DELETE FROM audit_auditevent WHERE id = %s",
        [event.pk],
    )

    report = _verify(trail.alpha)

    assert "sequence 3, expected 2 (an event is missing)" in report.problems[0]


def test_events_cut_off_the_end_are_reported_by_the_checkpoint(trail, tamper):
    # The chain left behind is intact in itself: only the checkpoint knows.
    tamper(
        ["audit_auditevent"],
        "DELETE FROM audit_auditevent WHERE organization_id = %s AND sequence > 2",
        [trail.alpha.pk],
    )

    report = _verify(trail.alpha)

    assert report.events.intact
    assert report.problems == [
        f"events cut off: the checkpoint of {report.checkpoint.created_at} recorded "
        "4 events up to #4, the database has 2 up to #2"
    ]


def test_a_chain_recomputed_with_the_key_is_caught_by_the_checkpoint(trail, tamper):
    # Even someone who has the key (but not the file store) cannot rewrite
    # history: the checkpoint holds the old head.
    events = _events(trail.alpha)
    events[1].actor_email = "nobody@evil.test"
    prev = events[0].hash
    for event in events[1:]:
        event.prev_hash = prev
        event.hash = prev = event_digest(event)
        tamper(
            ["audit_auditevent"],
            "UPDATE audit_auditevent SET actor_email = %s, prev_hash = %s, hash = %s"
            " WHERE id = %s",
            [event.actor_email, event.prev_hash, event.hash, event.pk],
        )

    report = _verify(trail.alpha)

    assert report.events.intact
    assert report.problems == [
        f"event #4 differs from the checkpoint of {report.checkpoint.created_at} "
        "(the chain was rewritten)"
    ]


def test_events_rewritten_as_unkeyed_are_reported(trail, tamper):
    # Without the key, the attacker's only way to recompute is the old scheme.
    events = _events(trail.alpha)
    events[2].actor_email = "nobody@evil.test"
    prev = events[1].hash
    for event in events[2:]:
        event.prev_hash, event.chain_version = prev, LEGACY
        event.hash = prev = event_digest(event)
        tamper(
            ["audit_auditevent"],
            "UPDATE audit_auditevent SET actor_email = %s, prev_hash = %s, hash = %s,"
            " chain_version = 1 WHERE id = %s",
            [event.actor_email, event.prev_hash, event.hash, event.pk],
        )

    report = _verify(trail.alpha)

    assert report.problems[0] == (
        f"event {events[2].uuid} (#3): not under the key after keyed events (rewritten)"
    )


# The change log ----------------------------------------------------------------


def test_an_edited_change_log_entry_is_reported(trail, tamper):
    entry = _entries(trail.alpha)[-1]
    tamper(
        ["audit_logentry"],
        "UPDATE audit_logentry SET object_repr = 'Someone else' WHERE id = %s",
        [entry.pk],
    )

    report = _verify(trail.alpha)

    assert len(report.problems) == 1
    assert report.problems[0].endswith("entries do not match the seal (altered)")


def test_a_deleted_change_log_entry_is_reported(trail, tamper):
    entry = _entries(trail.alpha)[2]
    tamper(["audit_logentry"], "DELETE FROM audit_logentry WHERE id = %s", [entry.pk])

    report = _verify(trail.alpha)

    assert len(report.problems) == 1
    assert "1 entries missing" in report.problems[0]


def test_an_entry_slipped_into_a_sealed_range_is_reported(trail, tamper):
    first = _entries(trail.alpha)[0]
    tamper(
        ["audit_logentry"],
        "INSERT INTO audit_logentry (id, organization_id, content_type_id, object_pk,"
        " object_repr, action, changes_text, timestamp)"
        " SELECT id - 1, organization_id, content_type_id, object_pk, object_repr,"
        " action, '', timestamp FROM audit_logentry WHERE id = %s",
        [first.pk],
    )

    report = _verify(trail.alpha)

    assert "1 entries added" in report.problems[0]


def test_a_truncated_change_log_and_its_seals_are_reported_by_the_checkpoint(
    trail, tamper
):
    # TRUNCATE fires no row trigger: the append-only triggers never see it.
    tamper(
        ["audit_logentry", "audit_changelogseal"],
        "TRUNCATE audit_logentry, audit_changelogseal",
    )

    report = _verify(trail.alpha)

    assert report.seals.intact  # nothing left to contradict itself
    assert report.problems == [
        f"change-log seals cut off: the checkpoint of {report.checkpoint.created_at} "
        "recorded 1 seals, the database has 0"
    ]


# Checkpoints -------------------------------------------------------------------


def test_a_tampered_checkpoint_file_is_reported(trail, media_root):
    name = latest_checkpoint_name(trail.alpha)
    path = media_root / name
    data = json.loads(path.read_text())
    data["events"]["count"] = 2  # to make a truncation look fine
    path.write_text(json.dumps(data))

    report = _verify(trail.alpha)

    assert report.problems == [
        f"checkpoint {name}: its signature does not verify (the file was altered)"
    ]


def test_a_checkpoint_file_removed_from_the_store_is_reported(trail, media_root):
    name = latest_checkpoint_name(trail.alpha)
    (media_root / name).unlink()

    report = _verify(trail.alpha)

    assert report.checkpoint is None
    assert "missing from the file store" in report.problems[0]


def test_a_verifier_holding_another_key_says_so(trail, settings):
    settings.AUDIT_CHAIN_KEY = "another-key-" * 4

    report = _verify(trail.alpha)

    assert "signed with another key" in report.problems[0]
    assert "content does not match its hash" in report.problems[1]


def test_audit_verify_exits_non_zero_and_names_the_firm(trail, tamper, capsys):
    tamper(
        ["audit_auditevent"],
        "DELETE FROM audit_auditevent WHERE organization_id = %s AND sequence = 4",
        [trail.alpha.pk],
    )

    with pytest.raises(CommandError, match="1 broken audit trail.*Alpha Accounting"):
        call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Alpha Accounting: BROKEN at events cut off" in out
    assert "Beta Bookkeeping: 1 events, chain intact" in out


# Chains from before the key ----------------------------------------------------


def test_a_legacy_chain_sealed_by_the_key_stays_intact(cast, tamper):
    # Turn Beta's one event into an unkeyed one, then let the migration seal it.
    migration = importlib.import_module(
        "advisoros.audit.migrations.0010_keyed_chain_seals_checkpoints"
    )
    [event] = _events(cast.beta)
    event.chain_version = LEGACY
    legacy_hash = hashlib.sha256(event_payload(event)).hexdigest()
    tamper(
        ["audit_auditevent"],
        "UPDATE audit_auditevent SET chain_version = 1, hash = %s WHERE id = %s",
        [legacy_hash, event.pk],
    )
    assert "not under the key" in _verify(cast.beta).problems[0]

    with platform_bypass():  # the migration's historical models are not scoped
        migration.seal_legacy_chains(
            apps, type("Editor", (), {"connection": connection})
        )

    events = _events(cast.beta)
    assert [(e.chain_version, e.action) for e in events] == [
        (LEGACY, AuditAction.FIRM_CREATED),
        (KEYED, AuditAction.AUDIT_CHAIN_KEYED),
    ]
    assert events[1].detail == {"legacy_events": 1}
    assert _verify(cast.beta).problems == []


# Schedules ---------------------------------------------------------------------


def test_the_schedules_seal_and_checkpoint_every_firm(cast, run_schedule):
    from advisoros.audit.tasks import audit_checkpoint_run, changelog_seal_run

    assert run_schedule(changelog_seal_run) == 2  # a seal in each firm
    with platform_bypass():
        assert set(ChangeLogSeal.objects.values_list("organization", flat=True)) >= {
            cast.alpha.pk,
            cast.beta.pk,
        }
    assert run_schedule(changelog_seal_run) == 0  # nothing new

    assert run_schedule(audit_checkpoint_run) == 2
    assert latest_checkpoint_name(cast.alpha) is not None
    assert latest_checkpoint_name(cast.beta) is not None
    assert run_schedule(audit_checkpoint_run) == 0  # nothing changed since
    assert _verify(cast.alpha).problems == []


def test_owners_who_asked_get_the_days_first_checkpoint_by_email(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    with platform_bypass():
        cast.alpha.audit_checkpoint_email = True
        cast.alpha.save()
    with tenant_context(cast.alpha), django_capture_on_commit_callbacks(execute=True):
        first = checkpoint_create(organization=cast.alpha)
        checkpoint_create(organization=cast.alpha, force=True)  # same day: no email
    with tenant_context(cast.beta), django_capture_on_commit_callbacks(execute=True):
        checkpoint_create(organization=cast.beta)  # Beta did not ask

    [message] = mailoutbox
    assert message.to == ["alice@alpha.test"]
    assert "audit checkpoint" in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (first.name.rsplit("/", 1)[-1], "application/json")
    assert json.loads(content)["signature"] == first.signature
