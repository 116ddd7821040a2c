"""Dependency resolution: a task is ready when everything it waits for is done."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import tenant_context
from tests.workflows.conftest import fresh, tasks_of
from workflows.models import ExecutionStatus, TaskStatus
from workflows.services.tasks import task_transition

pytestmark = pytest.mark.django_db

FAN_IN = [
    ("Gather documents", {}),
    ("Send organizer", {}),
    ("Prepare return", {"after": ["Gather documents", "Send organizer"]}),
    ("File return", {"after": ["Prepare return"]}),
]


@pytest.fixture
def execution(cast, make_template, make_wf_client, start):
    template = make_template(cast.alpha, "1040", FAN_IN)
    return start(template, make_wf_client(cast.alpha))


def move(task, to_status, by):
    with tenant_context(task.organization):
        return task_transition(task=task, to_status=to_status, by=by)


def test_a_task_waiting_on_two_becomes_ready_only_when_both_are_done(cast, execution):
    tasks = tasks_of(execution)

    move(tasks["Gather documents"], TaskStatus.COMPLETED, cast.sam)
    assert tasks_of(execution)["Prepare return"].status == TaskStatus.PENDING

    move(tasks["Send organizer"], TaskStatus.COMPLETED, cast.sam)
    assert tasks_of(execution)["Prepare return"].status == TaskStatus.READY
    assert tasks_of(execution)["File return"].status == TaskStatus.PENDING


def test_a_skipped_prerequisite_counts_as_done(cast, execution):
    tasks = tasks_of(execution)

    move(tasks["Gather documents"], TaskStatus.COMPLETED, cast.sam)
    move(tasks["Send organizer"], TaskStatus.SKIPPED, cast.alice)

    assert tasks_of(execution)["Prepare return"].status == TaskStatus.READY
    assert fresh(execution).tasks_done == 2


def test_the_workflow_completes_when_its_last_task_is_done(cast, execution):
    for title in FAN_IN:
        move(tasks_of(execution)[title[0]], TaskStatus.COMPLETED, cast.sam)

    execution = fresh(execution)
    assert execution.status == ExecutionStatus.COMPLETED
    assert (execution.tasks_done, execution.tasks_total) == (4, 4)
    assert execution.completed_at is not None
