"""Moving a task: the allowed moves, approval, who may skip or reopen, the messages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Role
from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import ExecutionStatus, Task, TaskComment, TaskStatus
from workflows.services.executions import execution_pause
from workflows.services.tasks import allowed_moves, allowed_moves_memo, member_role

pytestmark = pytest.mark.django_db

STEPS = [
    ("Prepare return", {}),
    ("Review return", {"after": ["Prepare return"], "needs_approval": True}),
    ("File return", {"after": ["Review return"]}),
]


@pytest.fixture
def execution(cast, make_template, make_wf_client, start):
    template = make_template(cast.alpha, "1040", STEPS)
    return start(template, make_wf_client(cast.alpha))


def _task(execution, title):
    return tasks_of(execution)[title]


def _assign(task, user):
    with tenant_context(task.organization):
        task.assignee = user
        task.save(update_fields=["assignee"])
    return task


def _to_review(cast, execution, assignee):
    move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)
    review = _assign(_task(execution, "Review return"), assignee)
    return move(review, TaskStatus.IN_REVIEW, assignee)


def test_starting_a_ready_task_stamps_when_it_started(cast, execution):
    task = move(_task(execution, "Prepare return"), TaskStatus.IN_PROGRESS, cast.sam)

    assert task.status == TaskStatus.IN_PROGRESS
    assert task.started_at is not None
    assert task.completed_at is None


def test_completing_a_task_stamps_who_and_when(cast, execution):
    task = move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)

    assert task.completed_by == cast.sam
    assert task.completed_at is not None
    assert task.started_at is not None
    assert fresh(execution).tasks_done == 1


def test_a_pending_task_cannot_start_and_says_what_it_waits_for(cast, execution):
    with pytest.raises(ValidationError) as error:
        move(_task(execution, "Review return"), TaskStatus.IN_PROGRESS, cast.sam)

    assert error.value.messages == [
        "“Review return” cannot start yet: it waits for Prepare return."
    ]


def test_nobody_makes_a_task_pending_by_hand(cast, execution):
    with pytest.raises(ValidationError, match="Only the workflow makes a task pending"):
        move(_task(execution, "Prepare return"), TaskStatus.PENDING, cast.alice)


def test_a_task_that_needs_approval_cannot_be_completed_without_review(cast, execution):
    move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)

    with pytest.raises(ValidationError) as error:
        move(_task(execution, "Review return"), TaskStatus.COMPLETED, cast.alice)

    assert error.value.messages == [
        "“Review return” needs approval: send it for review, and someone else "
        "approves it."
    ]


def test_a_task_without_approval_cannot_go_to_review(cast, execution):
    with pytest.raises(ValidationError, match="needs no approval"):
        move(_task(execution, "Prepare return"), TaskStatus.IN_REVIEW, cast.sam)


def test_nobody_approves_their_own_work(cast, execution):
    review = _to_review(cast, execution, cast.alice)

    with pytest.raises(ValidationError) as error:
        move(review, TaskStatus.COMPLETED, cast.alice)

    assert error.value.messages == [
        "You cannot approve your own work: someone else reviews “Review return”."
    ]


def test_staff_cannot_approve(cast, execution, make_member):
    review = _to_review(cast, execution, cast.alice)
    other = make_member(cast.alpha, "Stan Staff", Role.STAFF)

    with pytest.raises(ValidationError, match="Only a manager or above, or the"):
        move(review, TaskStatus.COMPLETED, other)
    assert fresh(review).status == TaskStatus.IN_REVIEW


def test_a_manager_approves_someone_elses_review(cast, execution):
    review = _to_review(cast, execution, cast.sam)
    mia = cast.mia

    approved = move(review, TaskStatus.COMPLETED, mia)

    assert approved.status == TaskStatus.COMPLETED
    assert approved.approved_by == mia
    assert _task(execution, "File return").status == TaskStatus.READY


def test_the_engagements_reviewer_approves_even_as_staff(
    cast, make_template, make_wf_client, make_wf_engagement, start, make_member
):
    stan = make_member(cast.alpha, "Stan Staff", Role.STAFF)
    client = make_wf_client(cast.alpha)
    engagement = make_wf_engagement(client, reviewer=stan)
    execution = start(
        make_template(cast.alpha, "1040", STEPS), client, engagement=engagement
    )
    review = _to_review(cast, execution, cast.sam)

    approved = move(review, TaskStatus.COMPLETED, stan)

    assert approved.approved_by == stan


def test_sending_back_a_review_returns_it_to_progress_with_the_comment(cast, execution):
    review = _to_review(cast, execution, cast.sam)

    back = move(review, TaskStatus.IN_PROGRESS, cast.alice, comment="Fix Schedule C")

    assert back.status == TaskStatus.IN_PROGRESS
    with tenant_context(cast.alpha):
        comment = TaskComment.objects.get(task=back)
    assert (comment.author, comment.body) == (cast.alice, "Fix Schedule C")


def test_staff_cannot_skip_a_task_assigned_to_someone_else(cast, execution):
    task = _assign(_task(execution, "Prepare return"), cast.alice)

    with pytest.raises(ValidationError) as error:
        move(task, TaskStatus.SKIPPED, cast.sam)

    assert error.value.messages == [
        "Only managers and above, or the person it is assigned to, can skip "
        "“Prepare return”."
    ]


def test_the_assignee_may_skip_their_own_task(cast, execution):
    task = _assign(_task(execution, "Prepare return"), cast.sam)

    skipped = move(task, TaskStatus.SKIPPED, cast.sam)

    assert skipped.status == TaskStatus.SKIPPED
    assert _task(execution, "Review return").status == TaskStatus.READY


def test_the_assignee_cannot_skip_their_own_review(cast, execution):
    move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)
    review = _assign(_task(execution, "Review return"), cast.sam)

    with pytest.raises(ValidationError) as error:
        move(review, TaskStatus.SKIPPED, cast.sam)

    assert error.value.messages == ["Only managers and above can skip “Review return”."]


def test_a_manager_may_skip_a_pending_task(cast, execution):
    skipped = move(_task(execution, "File return"), TaskStatus.SKIPPED, cast.adam)

    assert skipped.status == TaskStatus.SKIPPED
    assert fresh(execution).tasks_done == 1


def test_a_cancelled_task_is_final(cast, execution):
    task = move(_task(execution, "Prepare return"), TaskStatus.CANCELLED, cast.alice)

    with pytest.raises(ValidationError, match="was cancelled; it cannot change"):
        move(task, TaskStatus.IN_PROGRESS, cast.alice)


def test_a_cancelled_task_leaves_the_counters_and_releases_its_dependents(
    cast, execution
):
    move(_task(execution, "Prepare return"), TaskStatus.CANCELLED, cast.alice)

    execution = fresh(execution)
    assert (execution.tasks_done, execution.tasks_total) == (0, 2)
    assert _task(execution, "Review return").status == TaskStatus.READY


def test_a_completed_task_cannot_jump_to_review(cast, execution):
    task = move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)

    with pytest.raises(ValidationError) as error:
        move(task, TaskStatus.IN_REVIEW, cast.alice)

    assert error.value.messages == [
        "“Prepare return” is completed; it cannot go to in review."
    ]


def test_moving_a_task_to_its_own_status_changes_nothing(cast, execution):
    task = move(_task(execution, "Prepare return"), TaskStatus.READY, cast.sam)

    assert task.status == TaskStatus.READY
    assert task.started_at is None


def test_a_read_only_member_cannot_move_a_task(cast, execution):
    with pytest.raises(ValidationError, match="Read-only members cannot change"):
        move(_task(execution, "Prepare return"), TaskStatus.IN_PROGRESS, cast.rita)


def test_someone_outside_the_firm_cannot_move_a_task(cast, execution):
    with pytest.raises(ValidationError, match="Only active members of the firm"):
        move(_task(execution, "Prepare return"), TaskStatus.IN_PROGRESS, cast.oscar)


def test_a_paused_workflow_refuses_task_moves(cast, execution):
    with tenant_context(cast.alpha):
        execution_pause(execution=execution, by=cast.sam)

    with pytest.raises(ValidationError) as error:
        move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)

    assert error.value.messages == [
        "“1040 – Jane Doe” is paused. Resume the workflow to move its tasks."
    ]
    assert _task(execution, "Prepare return").status == TaskStatus.READY


def test_the_system_sends_a_task_that_needs_approval_to_review(cast, execution):
    move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, None)

    review = move(_task(execution, "Review return"), TaskStatus.COMPLETED, None)

    assert review.status == TaskStatus.IN_REVIEW
    with pytest.raises(ValidationError, match="needs a person's approval"):
        move(review, TaskStatus.COMPLETED, None)


def test_the_system_may_complete_a_pending_task(cast, execution):
    task = move(_task(execution, "File return"), TaskStatus.COMPLETED, None)

    assert task.status == TaskStatus.COMPLETED
    assert task.completed_by is None
    assert fresh(execution).tasks_done == 1


def test_the_pages_buttons_offer_only_the_allowed_moves(cast, execution):
    with tenant_context(cast.alpha):
        prepare = _task(execution, "Prepare return")
        review = _task(execution, "Review return")
        staff = member_role(cast.alpha.pk, cast.sam)
        owner = member_role(cast.alpha.pk, cast.alice)

        assert allowed_moves(prepare, by=cast.sam, role=staff) == [
            TaskStatus.IN_PROGRESS,
            TaskStatus.COMPLETED,
        ]
        assert allowed_moves(review, by=cast.alice, role=owner) == [
            TaskStatus.SKIPPED,
            TaskStatus.CANCELLED,
        ]
        assert allowed_moves(prepare, by=cast.rita, role=Role.READONLY) == []


def test_the_memo_answers_as_allowed_moves_does_for_every_task(
    cast, execution, make_template, make_wf_client, start
):
    """Boards ask `allowed_moves_memo`: it must agree with `allowed_moves` for
    tasks in every state, assignee and workflow status, for every role."""
    template = make_template(cast.alpha, "1040 again", STEPS)
    # Ready tasks alike but for their assignee (sam may skip his own, not these).
    mine = start(template, make_wf_client(cast.alpha, "Mine", client_code="MINE"))
    _assign(_task(mine, "Prepare return"), cast.sam)
    start(template, make_wf_client(cast.alpha, "Nobody's", client_code="NONE"))
    move(_task(execution, "Prepare return"), TaskStatus.COMPLETED, cast.sam)
    review = _assign(_task(execution, "Review return"), cast.sam)
    move(review, TaskStatus.IN_REVIEW, cast.sam)
    _assign(_task(execution, "Prepare return"), cast.adam)
    people = (cast.alice, cast.adam, cast.sam, cast.rita)
    for paused in (False, True):
        if paused:
            with tenant_context(cast.alpha):
                execution_pause(execution=execution, by=cast.alice)
        with tenant_context(cast.alpha):
            tasks = list(
                Task.objects.filter(organization=cast.alpha)
                .select_related("execution__engagement")
                .order_by("pk")
            )
            assert len(tasks) == 9
            for person in people:
                role = member_role(cast.alpha.pk, person)
                memo = allowed_moves_memo(by=person, role=role)
                for task in tasks + tasks:  # the second round answers from memory
                    assert list(memo(task)) == allowed_moves(
                        task, by=person, role=role
                    ), (task.title, person.email, paused)


def test_a_completed_workflow_reopens_with_its_task(
    cast, make_template, make_wf_client, start
):
    execution = start(
        make_template(cast.alpha, "Close", [("Reconcile", {})]),
        make_wf_client(cast.alpha),
    )
    task = move(tasks_of(execution)["Reconcile"], TaskStatus.COMPLETED, cast.sam)
    assert fresh(execution).status == ExecutionStatus.COMPLETED

    reopened = move(task, TaskStatus.IN_PROGRESS, cast.alice)

    execution = fresh(execution)
    assert reopened.completed_at is None and reopened.completed_by is None
    assert execution.status == ExecutionStatus.ACTIVE
    assert execution.completed_at is None
    assert execution.tasks_done == 0
