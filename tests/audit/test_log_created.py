"""Change-log entries for rows inserted in bulk (`log_created`): the same
"created" entry a save makes, masks included."""

from __future__ import annotations

from datetime import date

import pytest
from auditlog.diff import model_instance_diff
from django.contrib.contenttypes.models import ContentType

from advisoros.audit.models import LogEntry
from advisoros.audit.services import creation_diff, log_created
from advisoros.tenancy.db import tenant_context
from clients.models import Client
from workflows.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def _stored(obj) -> set[str]:
    return {f.name for f in obj._meta.concrete_fields if not f.generated}


def test_the_entry_is_the_one_auditlog_writes_masks_included(cast):
    with tenant_context(cast.alpha):
        client = Client.objects.create(
            organization=cast.alpha,
            display_name="Jane Doe",
            client_code="DOE",
            tax_id="123-45-6789",
            custom_fields={"b": 2, "a": 1},
        )
        task = Task.objects.create(
            organization=cast.alpha,
            title="Call the bank",
            client=client,
            assignee=cast.sam,
            status=TaskStatus.READY,
            due_date=date(2027, 1, 31),
        )
    for obj in (client, task):
        expected = model_instance_diff(None, obj, fields_to_check=_stored(obj))
        assert creation_diff(obj)(obj) == expected
    changes = creation_diff(client)(client)
    assert changes["tax_id"] == ("••••••••", "••••••••")
    assert "123-45-6789" not in str(changes)


def test_bulk_inserted_rows_get_their_entries_with_the_system_or_a_person(cast):
    with tenant_context(cast.alpha):
        tasks = Task.objects.bulk_create(
            Task(organization=cast.alpha, title=f"Step {i}", status=TaskStatus.READY)
            for i in range(3)
        )
        log_created(tasks, actor=None)
        log_created(tasks[:1], actor=cast.alice)

        entries = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Task)
        ).order_by("pk")
        assert [(e.object_id, e.actor_email) for e in entries] == [
            (tasks[0].pk, ""),
            (tasks[1].pk, ""),
            (tasks[2].pk, ""),
            (tasks[0].pk, "alice@alpha.test"),
        ]
        assert all(e.action == LogEntry.Action.CREATE for e in entries)
        assert entries[1].changes_dict["title"] == ["None", "Step 1"]
        assert {e.organization_id for e in entries} == {cast.alpha.pk}
