"""Each firm's security events form a hash chain that audit_verify checks."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from advisoros.audit.chain import GENESIS, chain_link
from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import platform_bypass


@pytest.fixture
def chained(cast):
    """The cast (whose "firm created" events open each firm's chain) and a few
    sign-ins, all written through the audit service."""
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
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert events[0].action == AuditAction.FIRM_CREATED
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    with platform_bypass():
        beta = AuditEvent.objects.filter(organization=chained.beta)
        assert sorted(e.sequence for e in beta) == [1, 2]  # a chain of its own


def test_audit_verify_reports_intact_chains(chained, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Alpha Accounting: 4 events, chain intact" in out
    assert "Beta Bookkeeping: 2 events, chain intact" in out
    assert "Platform (no firm): 1 events, chain intact" in out


# Tampering, without touching the append-only trigger. No UPDATE or DELETE gets
# past it; only the table owner could, by disabling it (DDL that these tests
# would then depend on). An INSERT, all the application role may do, leaves the
# chain in the same state as an edit or a deletion would: a row whose content
# does not match its hash, or a hole in the sequence. The verifier reads the
# rows only, so it sees the same thing either way.


def _linked(organization, count: int) -> list[AuditEvent]:
    """`count` new events given their places and hashes as the audit service
    gives them, not saved yet. Call inside a transaction (chain_link's lock)."""
    events = [
        AuditEvent(
            organization=organization,
            action=AuditAction.LOGOUT,
            actor_email="sam@alpha.test",
        )
        for _ in range(count)
    ]
    chain_link(events, organization.pk)
    return events


def test_an_altered_event_breaks_the_chain(chained, capsys):
    with platform_bypass(), transaction.atomic():
        [event] = _linked(chained.alpha, 1)
        event.actor_email = "x@evil.test"  # changed after it was hashed
        event.save()

    with pytest.raises(CommandError, match="1 broken"):
        call_command("audit_verify", firm="alpha")
    assert (
        f"event {event.uuid} (#5): content does not match its hash"
        in capsys.readouterr().out
    )


def test_a_removed_event_breaks_the_chain(chained, capsys):
    with platform_bypass(), transaction.atomic():
        removed, after = _linked(chained.alpha, 2)
        after.save()  # `removed` never reaches the table, as if deleted

    with pytest.raises(CommandError):
        call_command("audit_verify", firm="alpha")
    assert (
        f"event {after.uuid}: sequence 6, expected 5 (an event is missing)"
        in capsys.readouterr().out
    )


def test_deleting_a_person_keeps_the_chain_intact(chained, capsys):
    with platform_bypass():
        chained.sam.delete()
    call_command("audit_verify", firm="alpha")
    assert "4 events, chain intact" in capsys.readouterr().out


def test_two_events_cannot_take_the_same_place(chained):
    first = _alpha_events()[0]
    with platform_bypass(), pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            organization=chained.alpha,
            action=AuditAction.LOGOUT,
            sequence=first.sequence,
        )
