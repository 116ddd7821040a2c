"""The task page: allowed moves as buttons, approval, assignment, checklist, comments, time."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import tenant_context
from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import Task, TaskComment, TaskStatus
from workflows.services.executions import execution_pause

pytestmark = pytest.mark.django_db

STEPS = [
    (
        "Prepare return",
        {"checklist": ["W-2s entered", "Diagnostics cleared"], "budgeted_minutes": 90},
    ),
    ("Review return", {"after": ["Prepare return"], "needs_approval": True}),
]


@pytest.fixture
def execution(cast, make_template, make_wf_client, start):
    return start(make_template(cast.alpha, "1040", STEPS), make_wf_client(cast.alpha))


def _url(task, suffix=""):
    return f"/o/alpha/tasks/{task.uuid}/{suffix}"


def _buttons(response):
    return [m["status"] for m in response.context["moves"]]


def test_the_page_offers_only_the_moves_allowed_now(cast, login_as, execution):
    tasks = tasks_of(execution)
    client = login_as(cast.sam)

    ready = client.get(_url(tasks["Prepare return"]))
    pending = client.get(_url(tasks["Review return"]))

    assert _buttons(ready) == [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED]
    assert _buttons(pending) == []
    assert "waits for the steps before it" in pending.content.decode()
    assert "Prepare return" in pending.content.decode()  # what it waits for


def test_a_read_only_member_sees_the_task_without_buttons(cast, login_as, execution):
    response = login_as(cast.rita).get(_url(tasks_of(execution)["Prepare return"]))

    assert response.status_code == 200
    assert _buttons(response) == []
    assert "assign_form" not in response.context


def test_completing_from_the_page_releases_the_next_step(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(
        _url(task, "status/"), {"to_status": "completed"}, follow=True
    )

    assert "“Prepare return” is now completed." in response.content.decode()
    assert tasks_of(execution)["Review return"].status == TaskStatus.READY


def test_an_illegal_move_is_explained_and_changes_nothing(cast, login_as, execution):
    task = tasks_of(execution)["Review return"]

    response = login_as(cast.sam).post(
        _url(task, "status/"), {"to_status": "in_progress"}, follow=True
    )

    assert (
        "“Review return” cannot start yet: it waits for Prepare return."
        in response.content.decode()
    )
    assert fresh(task).status == TaskStatus.PENDING


def test_an_empty_move_is_refused_politely(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(_url(task, "status/"), follow=True)

    assert "Choose what to do with the task." in response.content.decode()


def test_review_and_approval_from_the_page(cast, login_as, execution):
    move(tasks_of(execution)["Prepare return"], TaskStatus.COMPLETED, cast.sam)
    review = tasks_of(execution)["Review return"]
    with tenant_context(cast.alpha):
        Task.objects.filter(pk=review.pk).update(assignee=cast.sam)
    mia = cast.mia

    login_as(cast.sam).post(_url(review, "status/"), {"to_status": "in_review"})
    own = login_as(cast.sam).get(_url(review))
    approval = login_as(mia).get(_url(review))
    login_as(mia).post(
        _url(review, "status/"), {"to_status": "completed", "comment": "Looks right"}
    )

    assert TaskStatus.COMPLETED not in _buttons(own)  # nobody approves their own
    assert TaskStatus.COMPLETED in _buttons(approval)
    assert "Approve" in approval.content.decode()
    review = fresh(review)
    assert (review.status, review.approved_by_id) == (TaskStatus.COMPLETED, mia.pk)
    with tenant_context(cast.alpha):
        assert TaskComment.objects.get(task=review).body == "Looks right"


def test_a_paused_workflows_task_shows_why_it_cannot_move(cast, login_as, execution):
    with tenant_context(cast.alpha):
        execution_pause(execution=execution, by=cast.sam)

    response = login_as(cast.sam).get(_url(tasks_of(execution)["Prepare return"]))

    assert _buttons(response) == []
    assert "is paused: resume it to move this task" in response.content.decode()


def test_assigning_from_the_page(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    login_as(cast.sam).post(_url(task, "assign/"), {"assignee": str(cast.adam.uuid)})

    assert fresh(task).assignee_id == cast.adam.pk


def test_a_read_only_member_is_not_a_choice_for_assignment(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(
        _url(task, "assign/"), {"assignee": str(cast.rita.uuid)}, follow=True
    )

    assert "Select a valid choice." in response.content.decode()
    assert fresh(task).assignee_id is None


def test_ticking_a_checklist_item_with_htmx(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(
        _url(task, "checklist/"),
        {"index": "1", "done": "1"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert fresh(task).checklist == [
        {"text": "W-2s entered", "done": False},
        {"text": "Diagnostics cleared", "done": True},
    ]


def test_a_checklist_item_that_does_not_exist_is_refused(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(
        _url(task, "checklist/"), {"index": "7", "done": "1"}, follow=True
    )

    assert "That checklist item no longer exists." in response.content.decode()


def test_commenting_and_logging_time(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]
    client = login_as(cast.sam)

    client.post(_url(task, "comments/"), {"body": "Waiting on the 1099-B"})
    response = client.post(_url(task, "minutes/"), {"minutes": "45"}, follow=True)

    assert "45 minutes logged (45 of 90 budgeted)." in response.content.decode()
    assert fresh(task).actual_minutes == 45
    page = client.get(_url(task)).content.decode()
    assert "Waiting on the 1099-B" in page


def test_an_empty_comment_is_refused(cast, login_as, execution):
    task = tasks_of(execution)["Prepare return"]

    response = login_as(cast.sam).post(
        _url(task, "comments/"), {"body": " "}, follow=True
    )

    assert "This field is required." in response.content.decode()
    with tenant_context(cast.alpha):
        assert not TaskComment.objects.exists()


def test_a_task_of_its_own_for_a_client(cast, login_as, make_wf_client):
    jane = make_wf_client(cast.alpha)

    response = login_as(cast.sam).post(
        f"/o/alpha/tasks/new/?client={jane.uuid}",
        {"title": "Renew the PTIN", "priority": "normal", "client": str(jane.uuid)},
    )

    with tenant_context(cast.alpha):
        task = Task.objects.get()
    assert response.url == _url(task)
    assert (task.client_id, task.execution_id) == (jane.pk, None)


def test_another_firms_task_is_not_found(
    cast, login_as, make_template, make_wf_client, start
):
    theirs = start(
        make_template(cast.beta, "Beta", [("Only", {})]),
        make_wf_client(cast.beta, "Beta Client"),
    )
    task = tasks_of(theirs)["Only"]
    client = login_as(cast.alice)

    assert client.get(_url(task)).status_code == 404
    assert (
        client.post(_url(task, "status/"), {"to_status": "completed"}).status_code
        == 404
    )
    assert fresh(task).status == TaskStatus.READY


def test_the_task_page_costs_a_fixed_number_of_queries(
    cast, login_as, execution, django_assert_num_queries
):
    task = tasks_of(execution)["Review return"]
    client = login_as(cast.sam)
    client.get(_url(task))
    for i in range(5):
        client.post(_url(task, "comments/"), {"body": f"Note {i}"})
    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's firms
    # (the membership and the switcher), 5 the task with its workflow, client and
    # people, 6 what it waits for, 7 comments with authors, 8 members for the assign
    # form, 9 reset the RLS context.
    with django_assert_num_queries(9):
        response = client.get(_url(task))
    assert len(response.context["comments"]) == 5
