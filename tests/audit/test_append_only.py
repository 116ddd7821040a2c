"""Audit rows cannot be edited or deleted, even by code that tries.

Two locks: the application's role holds no UPDATE or DELETE on the audit
tables (only INSERT, and UPDATE of the person columns a deletion clears), and
the append-only trigger refuses a rewrite even from the owner role.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, transaction

from advisoros.audit.models import AuditEvent, LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context


@pytest.mark.parametrize("model", [AuditEvent, LogEntry])
def test_audit_rows_cannot_be_deleted_even_under_the_platform_bypass(cast, model):
    with platform_bypass():
        row = model.objects.filter(organization=cast.alpha).first()
        assert row is not None
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
        ):
            model.objects.filter(pk=row.pk).delete()
        assert model.objects.filter(pk=row.pk).exists()


def test_an_audit_event_cannot_be_rewritten(cast):
    with tenant_context(cast.alpha):
        event = AuditEvent.objects.first()
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
        ):
            AuditEvent.objects.filter(pk=event.pk).update(
                actor_email="someone@else.test"
            )


def test_deleting_a_person_keeps_their_events_with_the_recorded_email(cast):
    from advisoros.audit.models import AuditAction
    from advisoros.audit.services import audit_event_record

    [event] = audit_event_record(
        action=AuditAction.LOGIN_SUCCESS, organizations=[cast.alpha], actor=cast.sam
    )
    with platform_bypass():
        cast.sam.delete()
        event.refresh_from_db()
    assert event.actor_id is None
    assert event.actor_email == "sam@alpha.test"


def test_a_chained_event_cannot_be_taken_out_of_its_chain(cast, owner_cursor):
    from advisoros.audit.models import AuditAction
    from advisoros.audit.services import audit_event_record

    [event] = audit_event_record(
        action=AuditAction.LOGOUT, organizations=[cast.alpha], actor=cast.sam
    )
    with platform_bypass():
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
        ):
            AuditEvent.objects.filter(pk=event.pk).update(sequence=None, hash="")
    # Even the owner role, which may UPDATE, meets the trigger.
    with pytest.raises(psycopg.Error, match="append-only"):
        owner_cursor.execute(
            "UPDATE audit_auditevent SET sequence = NULL, hash = '' WHERE id = %s",
            [event.pk],
        )
    with pytest.raises(psycopg.Error, match="append-only"):
        owner_cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
