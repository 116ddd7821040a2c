"""Dependency resolution: a task is ready when everything it waits for is done."""

from __future__ import annotations

import pytest

from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import ExecutionStatus, TaskStatus

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


def test_reopening_a_task_holds_back_the_dependents_not_yet_started(cast, execution):
    tasks = tasks_of(execution)
    move(tasks["Gather documents"], TaskStatus.COMPLETED, cast.sam)
    move(tasks["Send organizer"], TaskStatus.COMPLETED, cast.sam)
    assert tasks_of(execution)["Prepare return"].status == TaskStatus.READY

    move(tasks_of(execution)["Send organizer"], TaskStatus.IN_PROGRESS, cast.alice)

    assert tasks_of(execution)["Prepare return"].status == TaskStatus.PENDING
    assert fresh(execution).tasks_done == 1


def test_reopening_a_task_leaves_dependents_already_started_alone(cast, execution):
    tasks = tasks_of(execution)
    move(tasks["Gather documents"], TaskStatus.COMPLETED, cast.sam)
    move(tasks["Send organizer"], TaskStatus.COMPLETED, cast.sam)
    move(tasks_of(execution)["Prepare return"], TaskStatus.IN_PROGRESS, cast.sam)

    move(tasks_of(execution)["Send organizer"], TaskStatus.IN_PROGRESS, cast.alice)

    assert tasks_of(execution)["Prepare return"].status == TaskStatus.IN_PROGRESS


def test_a_reopened_skip_waits_again_when_its_prerequisites_are_open(cast, execution):
    skipped = move(tasks_of(execution)["File return"], TaskStatus.SKIPPED, cast.alice)

    reopened = move(skipped, TaskStatus.READY, cast.alice)

    assert reopened.status == TaskStatus.PENDING
    assert reopened.completed_at is None
    assert fresh(execution).tasks_done == 0


def test_a_reopened_skip_is_ready_when_nothing_holds_it(cast, execution):
    skipped = move(
        tasks_of(execution)["Gather documents"], TaskStatus.SKIPPED, cast.alice
    )

    reopened = move(skipped, TaskStatus.READY, cast.alice)

    assert reopened.status == TaskStatus.READY


def test_skipping_everything_completes_the_workflow(cast, execution):
    for title, _ in FAN_IN:
        move(tasks_of(execution)[title], TaskStatus.SKIPPED, cast.alice)

    execution = fresh(execution)
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.tasks_done == 4


def test_a_chain_releases_one_step_at_a_time(cast, execution):
    tasks = tasks_of(execution)
    move(tasks["Gather documents"], TaskStatus.COMPLETED, cast.sam)
    move(tasks["Send organizer"], TaskStatus.COMPLETED, cast.sam)
    move(tasks_of(execution)["Prepare return"], TaskStatus.COMPLETED, cast.sam)

    statuses = {t.title: t.status for t in tasks_of(execution).values()}
    assert statuses["File return"] == TaskStatus.READY
    assert fresh(execution).progress_percent == 75
