"""Starting a workflow from a template: tasks, statuses, dependencies, dates, counters."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from tests.factories import START
from tests.workflows.conftest import tasks_of
from workflows.models import ExecutionStatus, TaskDependency, TaskStatus

pytestmark = pytest.mark.django_db

RETURN = [
    ("Gather documents", {"due_offset_days": 7, "budgeted_minutes": 30}),
    ("Send organizer", {"due_offset_days": 3}),
    (
        "Prepare return",
        {"after": ["Gather documents", "Send organizer"], "due_offset_days": 20},
    ),
    (
        "Review return",
        {
            "after": ["Prepare return"],
            "needs_approval": True,
            "due_from": "due",
            "due_offset_days": -5,
        },
    ),
]


def test_tasks_without_prerequisites_start_ready_and_the_others_pending(
    cast, make_template, make_wf_client, start
):
    template = make_template(cast.alpha, "1040", RETURN)
    client = make_wf_client(cast.alpha, "Jane Doe")

    execution = start(template, client, due_date=date(2027, 4, 15))

    tasks = tasks_of(execution)
    assert {t: tasks[t].status for t in tasks} == {
        "Gather documents": TaskStatus.READY,
        "Send organizer": TaskStatus.READY,
        "Prepare return": TaskStatus.PENDING,
        "Review return": TaskStatus.PENDING,
    }
    assert execution.name == "1040 – Jane Doe"
    assert execution.status == ExecutionStatus.ACTIVE
    assert (execution.tasks_total, execution.tasks_done) == (4, 0)
    assert [tasks[t].step_index for t in tasks] == [0, 1, 2, 3]
    assert tasks["Gather documents"].due_date == date(2027, 3, 8)
    assert tasks["Review return"].due_date == date(2027, 4, 10)
    assert tasks["Gather documents"].budgeted_minutes == 30
    assert tasks["Review return"].needs_approval


def test_the_task_dependencies_mirror_the_steps(
    cast, make_template, make_wf_client, start
):
    template = make_template(cast.alpha, "1040", RETURN)
    execution = start(template, make_wf_client(cast.alpha))

    with tenant_context(cast.alpha):
        pairs = set(
            TaskDependency.objects.filter(task__execution=execution).values_list(
                "task__title", "depends_on__title"
            )
        )
    assert pairs == {
        ("Prepare return", "Gather documents"),
        ("Prepare return", "Send organizer"),
        ("Review return", "Prepare return"),
    }


def test_a_template_without_steps_cannot_start(
    cast, make_template, make_wf_client, start
):
    template = make_template(cast.alpha, "Empty", [])

    with pytest.raises(ValidationError, match="has no steps yet"):
        start(template, make_wf_client(cast.alpha))


def test_steps_counted_from_a_missing_due_date_have_no_due_date(
    cast, make_template, make_wf_client, start
):
    template = make_template(cast.alpha, "1040", RETURN)

    tasks = tasks_of(start(template, make_wf_client(cast.alpha)))

    assert tasks["Review return"].due_date is None
    assert tasks["Gather documents"].due_date == START.replace(day=8)
