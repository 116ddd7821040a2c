"""Audit rows cannot be edited or deleted, even by code that tries."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from advisoros.audit.models import AuditEvent, LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context


@pytest.mark.parametrize("model", [AuditEvent, LogEntry])
def test_audit_rows_cannot_be_deleted_even_under_the_platform_bypass(cast, model):
    with platform_bypass():
        row = model.objects.filter(organization=cast.alpha).first()
        assert row is not None
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model.objects.filter(pk=row.pk).delete()
        assert model.objects.filter(pk=row.pk).exists()


def test_an_audit_event_cannot_be_rewritten(cast):
    with tenant_context(cast.alpha):
        event = AuditEvent.objects.first()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
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


def test_a_chained_event_cannot_be_taken_out_of_its_chain(cast):
    from advisoros.audit.models import AuditAction
    from advisoros.audit.services import audit_event_record

    [event] = audit_event_record(
        action=AuditAction.LOGOUT, organizations=[cast.alpha], actor=cast.sam
    )
    with platform_bypass():
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(sequence=None, hash="")
        # An event written outside the chain (as before the chain existed) may
        # be linked into it once: the backfill of migration 0004.
        unchained = AuditEvent.objects.create(
            organization=cast.alpha, action=AuditAction.LOGOUT
        )
        AuditEvent.objects.filter(pk=unchained.pk).update(sequence=99, hash="h")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=unchained.pk).update(sequence=100)
