"""Workflows: who gets each task, refusals across firms, pause/resume/cancel, cost."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Role
from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import ExecutionStatus, Task, TaskStatus, WorkflowExecution
from workflows.services.executions import (
    execution_cancel,
    execution_pause,
    execution_resume,
)

pytestmark = pytest.mark.django_db


def _rules(*rules):
    return [(title, fields) for title, fields in rules]


SLOTS = _rules(
    ("Partner sign-off", {"assignee_rule": "partner"}),
    ("Manager check", {"assignee_rule": "manager"}),
    ("Prepare", {"assignee_rule": "preparer"}),
    ("Review", {"assignee_rule": "reviewer"}),
    ("Anyone", {"assignee_rule": "unassigned"}),
)


def _assignees(execution):
    return {title: t.assignee for title, t in tasks_of(execution).items()}


def test_engagement_slots_decide_who_does_each_step(
    cast, make_template, make_wf_client, make_wf_engagement, start
):
    mia = cast.mia
    client = make_wf_client(cast.alpha, partner=cast.adam)
    engagement = make_wf_engagement(
        client, partner=cast.alice, manager=mia, preparer=cast.sam, reviewer=cast.adam
    )

    execution = start(
        make_template(cast.alpha, "1040", SLOTS), client, engagement=engagement
    )

    assert _assignees(execution) == {
        "Partner sign-off": cast.alice,
        "Manager check": mia,
        "Prepare": cast.sam,
        "Review": cast.adam,
        "Anyone": None,
    }


def test_without_an_engagement_the_clients_own_team_is_used(
    cast, make_template, make_wf_client, start
):
    mia = cast.mia
    client = make_wf_client(cast.alpha, partner=cast.alice, manager=mia, staff=cast.sam)

    execution = start(make_template(cast.alpha, "1040", SLOTS), client)

    assert _assignees(execution) == {
        "Partner sign-off": cast.alice,
        "Manager check": mia,
        "Prepare": cast.sam,
        "Review": mia,
        "Anyone": None,
    }


def test_an_empty_engagement_slot_falls_back_to_the_client(
    cast, make_template, make_wf_client, make_wf_engagement, start
):
    client = make_wf_client(cast.alpha, partner=cast.alice, manager=cast.adam)
    engagement = make_wf_engagement(client, preparer=cast.sam)

    execution = start(
        make_template(cast.alpha, "1040", SLOTS), client, engagement=engagement
    )

    assert _assignees(execution)["Partner sign-off"] == cast.alice
    assert _assignees(execution)["Prepare"] == cast.sam
    assert _assignees(execution)["Review"] == cast.adam


def test_someone_who_left_the_firm_is_never_given_a_task(
    cast, make_template, make_wf_client, start, make_member
):
    gone = make_member(cast.alpha, "Gina Gone", Role.STAFF, is_active=False)
    client = make_wf_client(cast.alpha, staff=gone, manager=cast.adam)
    template = make_template(
        cast.alpha,
        "1040",
        _rules(
            ("Prepare", {"assignee_rule": "preparer"}),
            ("Named", {"assignee_rule": "person", "assignee_user": gone}),
            ("Read-only", {"assignee_rule": "person", "assignee_user": cast.rita}),
        ),
    )

    execution = start(template, client)

    assert _assignees(execution) == {
        "Prepare": cast.adam,
        "Named": None,
        "Read-only": None,
    }


def test_a_named_person_gets_the_step(cast, make_template, make_wf_client, start):
    template = make_template(
        cast.alpha,
        "Close",
        _rules(("Reconcile", {"assignee_rule": "person", "assignee_user": cast.sam})),
    )

    assert _assignees(start(template, make_wf_client(cast.alpha))) == {
        "Reconcile": cast.sam
    }


def test_a_role_goes_to_the_least_loaded_member_and_spreads_within_one_start(
    cast, make_template, make_wf_client, start, make_member
):
    stan = make_member(cast.alpha, "Stan Staff", Role.STAFF)
    client = make_wf_client(cast.alpha)
    busy = make_template(cast.alpha, "Busy", _rules(("Old work", {})))
    old = start(busy, client)
    with tenant_context(cast.alpha):
        Task.objects.filter(execution=old).update(assignee=cast.sam)
    template = make_template(
        cast.alpha,
        "Payroll",
        _rules(
            ("First", {"assignee_rule": "role", "assignee_role": "staff"}),
            ("Second", {"assignee_rule": "role", "assignee_role": "staff"}),
            ("Third", {"assignee_rule": "role", "assignee_role": "staff"}),
        ),
    )

    execution = start(template, client)

    # Sam has one open task, Stan none: Stan, then a tie (Sam before Stan by
    # name), then Stan.
    assert _assignees(execution) == {"First": stan, "Second": cast.sam, "Third": stan}


def test_a_role_nobody_holds_leaves_the_step_unassigned(
    cast, make_template, make_wf_client, start
):
    template = make_template(
        cast.alpha,
        "Payroll",
        _rules(("First", {"assignee_rule": "role", "assignee_role": "manager"})),
    )
    with platform_bypass():  # Mia, the firm's one manager, has left
        Membership.objects.filter(user=cast.mia).update(is_active=False)

    assert _assignees(start(template, make_wf_client(cast.alpha))) == {"First": None}


def test_the_tasks_take_the_engagements_priority(
    cast, make_template, make_wf_client, make_wf_engagement, start
):
    client = make_wf_client(cast.alpha)
    engagement = make_wf_engagement(client, priority="urgent")

    execution = start(
        make_template(cast.alpha, "1040", SLOTS), client, engagement=engagement
    )

    assert {t.priority for t in tasks_of(execution).values()} == {"urgent"}


def test_another_firms_client_cannot_be_used(
    cast, make_template, make_wf_client, start
):
    template = make_template(cast.alpha, "1040", SLOTS)
    theirs = make_wf_client(cast.beta, "Beta Client")

    with pytest.raises(ValidationError) as error:
        start(template, theirs)

    assert error.value.message_dict == {"client": ["Choose one of the firm's clients."]}
    with platform_bypass():
        assert not Task.objects.filter(client=theirs).exists()


def test_an_engagement_of_another_client_cannot_be_used(
    cast, make_template, make_wf_client, make_wf_engagement, start
):
    template = make_template(cast.alpha, "1040", SLOTS)
    other = make_wf_engagement(make_wf_client(cast.alpha, "Other"))

    with pytest.raises(ValidationError) as error:
        start(template, make_wf_client(cast.alpha), engagement=other)

    assert error.value.message_dict == {
        "engagement": ["Choose one of this client's engagements."]
    }


def test_an_archived_template_cannot_start(cast, make_template, make_wf_client, start):
    template = make_template(cast.alpha, "Old 1040", SLOTS, is_active=False)

    with pytest.raises(ValidationError, match="is archived"):
        start(template, make_wf_client(cast.alpha))


def test_the_due_date_cannot_be_before_the_start(
    cast, make_template, make_wf_client, start
):
    with pytest.raises(ValidationError) as error:
        start(
            make_template(cast.alpha, "1040", SLOTS),
            make_wf_client(cast.alpha),
            due_date=date(2027, 2, 1),
        )

    assert error.value.message_dict == {
        "due_date": ["The due date cannot be before the start date."]
    }


def test_starting_costs_the_same_queries_for_two_steps_or_twenty(
    cast, make_template, make_wf_client, start
):
    client = make_wf_client(cast.alpha, partner=cast.alice)

    def cost(n):
        steps = [
            (
                f"Step {i}",
                {
                    "assignee_rule": "role" if i % 2 else "partner",
                    "assignee_role": "staff",
                    **({"after": [f"Step {i - 1}"]} if i else {}),
                },
            )
            for i in range(n)
        ]
        template = make_template(cast.alpha, f"T{n}", steps)
        with CaptureQueriesContext(connection) as queries:
            start(template, client)
        return len(queries)

    assert cost(2) == cost(20)


# Pause, resume, cancel -----------------------------------------------------------


@pytest.fixture
def execution(cast, make_template, make_wf_client, start):
    return start(
        make_template(cast.alpha, "1040", [("One", {}), ("Two", {"after": ["One"]})]),
        make_wf_client(cast.alpha),
    )


def test_pausing_and_resuming_a_workflow(cast, execution):
    with tenant_context(cast.alpha):
        execution_pause(execution=execution, by=cast.sam)
        assert fresh(execution).status == ExecutionStatus.PAUSED

        execution_resume(execution=execution, by=cast.sam)

    assert fresh(execution).status == ExecutionStatus.ACTIVE
    move(tasks_of(execution)["One"], TaskStatus.COMPLETED, cast.sam)
    assert tasks_of(execution)["Two"].status == TaskStatus.READY


def test_only_an_active_workflow_can_be_paused(cast, execution):
    with tenant_context(cast.alpha):
        execution_pause(execution=execution, by=cast.sam)
        with pytest.raises(ValidationError, match="only an active workflow"):
            execution_pause(execution=execution, by=cast.sam)


def test_resuming_a_workflow_that_is_not_paused_says_so(cast, execution):
    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="is not paused"),
    ):
        execution_resume(execution=execution, by=cast.sam)


def test_cancelling_closes_the_open_tasks_and_keeps_the_progress(cast, execution):
    move(tasks_of(execution)["One"], TaskStatus.COMPLETED, cast.sam)

    with tenant_context(cast.alpha):
        execution_cancel(execution=execution, by=cast.alice)

    execution = fresh(execution)
    assert execution.status == ExecutionStatus.CANCELLED
    assert (execution.tasks_done, execution.tasks_total) == (1, 2)
    assert {t: x.status for t, x in tasks_of(execution).items()} == {
        "One": TaskStatus.COMPLETED,
        "Two": TaskStatus.CANCELLED,
    }
    with pytest.raises(ValidationError, match="was cancelled"):
        move(tasks_of(execution)["One"], TaskStatus.IN_PROGRESS, cast.alice)


def test_staff_cannot_cancel_a_workflow(cast, execution):
    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="needs the Manager role"),
    ):
        execution_cancel(execution=execution, by=cast.sam)

    assert fresh(execution).status == ExecutionStatus.ACTIVE


def test_a_read_only_member_cannot_pause(cast, execution):
    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="Read-only members"),
    ):
        execution_pause(execution=execution, by=cast.rita)


def test_a_member_who_left_cannot_pause(cast, execution):
    with platform_bypass():
        Membership.objects.filter(user=cast.sam).update(is_active=False)

    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="Only active members"),
    ):
        execution_pause(execution=execution, by=cast.sam)


def test_building_many_workflows_with_one_firm_assigner_spreads_role_steps(
    cast, make_template, make_wf_client, make_member
):
    from workflows.services.executions import (
        Assigner,
        execution_tasks_build,
        template_shape,
    )

    stan = make_member(cast.alpha, "Stan Staff", Role.STAFF)
    template = make_template(
        cast.alpha,
        "Payroll",
        _rules(
            ("Prepare", {"assignee_rule": "role", "assignee_role": "staff"}),
            ("Approve", {"assignee_rule": "partner", "after": ["Prepare"]}),
        ),
    )
    clients = [
        make_wf_client(cast.alpha, name, partner=cast.alice) for name in ("A", "B")
    ]
    with tenant_context(cast.alpha):
        shape = template_shape(template)
        assigner = Assigner.for_firm(organization_id=cast.alpha.pk)
        built = []
        for client in clients:
            execution = WorkflowExecution(
                organization=cast.alpha, client=client, start_date=date(2027, 1, 1)
            )
            assigner.use(client=client, engagement=None)
            built.append(
                execution_tasks_build(
                    execution=execution, shape=shape, assigner=assigner
                )
            )

    preparers = {tasks[0].assignee_id for tasks, _ in built}
    assert preparers == {cast.sam.pk, stan.pk}
    assert [tasks[1].assignee_id for tasks, _ in built] == [cast.alice.pk] * 2
    assert [
        (task.title, before.title) for _, pairs in built for task, before in pairs
    ] == [("Approve", "Prepare")] * 2
    assert [t.status for t in built[0][0]] == [TaskStatus.READY, TaskStatus.PENDING]
