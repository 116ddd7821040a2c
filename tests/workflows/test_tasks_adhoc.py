"""Ad-hoc tasks (on a workflow or on their own) and assigning tasks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import ExecutionStatus, Task, TaskStatus
from workflows.services.executions import execution_cancel
from workflows.services.tasks import task_assign, task_create_adhoc

pytestmark = pytest.mark.django_db


@pytest.fixture
def execution(cast, make_template, make_wf_client, start):
    return start(
        make_template(cast.alpha, "Close", [("Reconcile", {})]),
        make_wf_client(cast.alpha),
    )


def adhoc(cast, **kwargs):
    kwargs.setdefault("by", cast.sam)
    with tenant_context(cast.alpha):
        return task_create_adhoc(organization=cast.alpha, **kwargs)


def test_an_adhoc_task_joins_the_end_of_its_workflow_and_its_counters(cast, execution):
    task = adhoc(cast, title="Call the client about the 1099s", execution=execution)

    assert task.status == TaskStatus.READY
    assert task.step_index == 1
    assert task.client_id == execution.client_id
    assert fresh(execution).tasks_total == 2


def test_an_adhoc_task_reopens_a_completed_workflow(cast, execution):
    move(tasks_of(execution)["Reconcile"], TaskStatus.COMPLETED, cast.sam)
    assert fresh(execution).status == ExecutionStatus.COMPLETED

    adhoc(cast, title="One more thing", execution=execution)

    execution = fresh(execution)
    assert execution.status == ExecutionStatus.ACTIVE
    assert (execution.tasks_done, execution.tasks_total) == (1, 2)


def test_a_task_on_its_own_belongs_to_nobody_but_its_firm(cast, make_wf_client):
    client = make_wf_client(cast.alpha)

    task = adhoc(
        cast, title="Renew PTIN", client=client, assignee=cast.sam, priority="high"
    )

    assert (task.execution, task.client, task.assignee) == (None, client, cast.sam)
    assert task.priority == "high"


def test_an_adhoc_task_needs_a_title_and_a_known_priority(cast):
    with pytest.raises(ValidationError) as error:
        adhoc(cast, title="  ", priority="asap")

    assert error.value.message_dict == {
        "title": ["Give the task a title."],
        "priority": ["Choose a priority."],
    }
    with tenant_context(cast.alpha):
        assert not Task.objects.exists()


def test_an_adhoc_task_cannot_name_another_firms_client(cast, make_wf_client):
    with pytest.raises(ValidationError) as error:
        adhoc(cast, title="Peek", client=make_wf_client(cast.beta, "Beta Client"))

    assert error.value.message_dict == {"client": ["Choose one of the firm's clients."]}


def test_an_adhoc_task_on_a_workflow_must_be_for_its_client(
    cast, execution, make_wf_client
):
    with pytest.raises(ValidationError, match="must be the workflow's client"):
        adhoc(
            cast,
            title="Mixed",
            execution=execution,
            client=make_wf_client(cast.alpha, "Someone Else"),
        )


def test_a_cancelled_workflow_takes_no_new_tasks(cast, execution):
    with tenant_context(cast.alpha):
        execution_cancel(execution=execution, by=cast.alice)

    with pytest.raises(ValidationError, match="takes no new tasks"):
        adhoc(cast, title="Late", execution=execution)


def test_a_read_only_member_cannot_add_tasks(cast):
    with pytest.raises(ValidationError, match="Read-only"):
        adhoc(cast, title="Nope", by=cast.rita)


def test_assigning_a_task_to_a_member(cast, execution):
    with tenant_context(cast.alpha):
        task = task_assign(
            task=tasks_of(execution)["Reconcile"], assignee=cast.adam, by=cast.sam
        )

    assert fresh(task).assignee == cast.adam


def test_a_task_cannot_go_to_a_read_only_member_or_an_outsider(cast, execution):
    task = tasks_of(execution)["Reconcile"]

    with tenant_context(cast.alpha):
        for person in (cast.rita, cast.oscar):
            with pytest.raises(ValidationError) as error:
                task_assign(task=task, assignee=person, by=cast.sam)
            assert error.value.message_dict == {
                "assignee": [f"{person} is not an active member who can do tasks."]
            }


def test_a_closed_task_keeps_its_assignee(cast, execution):
    task = move(tasks_of(execution)["Reconcile"], TaskStatus.COMPLETED, cast.sam)
    mia = cast.mia

    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="keeps its assignee"),
    ):
        task_assign(task=task, assignee=mia, by=cast.alice)


def test_unassigning_a_task(cast, execution):
    with tenant_context(cast.alpha):
        task = task_assign(
            task=tasks_of(execution)["Reconcile"], assignee=cast.sam, by=cast.sam
        )
        task = task_assign(task=task, assignee=None, by=cast.sam)

    assert fresh(task).assignee is None
