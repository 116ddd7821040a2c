"""Each firm's security events form a hash chain that audit_verify checks."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from advisoros.audit.chain import GENESIS
from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import platform_bypass


@pytest.fixture
def chained(cast):
    """A cast whose events were all written through the audit service."""
    _tamper("DELETE FROM audit_auditevent", [])  # the cast's events are unchained
    for user in (cast.alice, cast.sam, cast.rita):
        audit_event_record(
            action=AuditAction.LOGIN_SUCCESS, organizations=[cast.alpha], actor=user
        )
    audit_event_record(
        action=AuditAction.LOGIN_SUCCESS, organizations=[cast.beta], actor=cast.oscar
    )
    audit_event_record(
        action=AuditAction.LOGIN_FAILURE, organizations=[], actor_email="x@y.test"
    )
    return cast


def _alpha_events() -> list[AuditEvent]:
    with platform_bypass():
        return list(
            AuditEvent.objects.filter(organization__slug="alpha").order_by("sequence")
        )


def test_events_are_numbered_and_linked_per_firm(chained):
    events = _alpha_events()
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    with platform_bypass():
        beta = AuditEvent.objects.get(organization=chained.beta)
    assert beta.sequence == 1  # a chain of its own


def test_audit_verify_reports_intact_chains(chained, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Alpha Accounting: 3 events, chain intact" in out
    assert "Beta Bookkeeping: 1 events, chain intact" in out
    assert "Platform (no firm): 1 events, chain intact" in out


def _tamper(sql: str, params: list) -> None:
    # Someone with the table owner's rights gets past the append-only trigger.
    with platform_bypass(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
        cursor.execute(
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only"
        )
        cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only"
        )


def test_an_altered_event_breaks_the_chain(chained, capsys):
    second = _alpha_events()[1]
    _tamper(
        "UPDATE audit_auditevent SET actor_email = %s WHERE id = %s",
        ["x@evil.test", second.pk],
    )
    with pytest.raises(CommandError, match="1 broken"):
        call_command("audit_verify", firm="alpha")
    assert (
        f"event {second.uuid} (#2): content does not match its hash"
        in capsys.readouterr().out
    )


def test_a_removed_event_breaks_the_chain(chained, capsys):
    second = _alpha_events()[1]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    with pytest.raises(CommandError):
        call_command("audit_verify", firm="alpha")
    assert "expected 2 (an event is missing)" in capsys.readouterr().out


def test_deleting_a_person_keeps_the_chain_intact(chained, capsys):
    with platform_bypass():
        chained.sam.delete()
    call_command("audit_verify", firm="alpha")
    assert "3 events, chain intact" in capsys.readouterr().out


def test_two_events_cannot_take_the_same_place(chained):
    from django.db import IntegrityError, transaction

    first = _alpha_events()[0]
    with platform_bypass(), pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            organization=chained.alpha,
            action=AuditAction.LOGOUT,
            sequence=first.sequence,
        )
