"""Tasks that complete by themselves: a client's document accepted, a whole request
fulfilled, an engagement letter accepted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement
from clients.signals import engagement_letter_accepted
from documents.models import Document, DocumentRequest, DocumentRequestItem
from documents.services.requests import (
    document_request_create,
    document_request_item_accept,
    document_request_item_attach,
)
from tests.workflows.conftest import fresh, tasks_of
from workflows.models import CompletesOn, TaskComment, TaskStatus
from workflows.services.automation import task_link_request
from workflows.services.executions import execution_pause

STEPS = [
    (
        "Receive W-2",
        {"completes_on": "request_item_fulfilled", "assignee_rule": "preparer"},
    ),
    ("Prepare return", {"after": ["Receive W-2"], "assignee_rule": "preparer"}),
]


@pytest.fixture
def w2_request(cast, jane):
    with tenant_context(cast.alpha):
        return document_request_create(
            client=jane,
            title="2026 tax documents",
            items=[{"title": "W-2"}, {"title": "1099-INT"}],
            created_by=cast.alice,
        )


def _items(request: DocumentRequest) -> dict[str, DocumentRequestItem]:
    with tenant_context(request.organization):
        return {i.title: i for i in request.items.all()}


def _send_and_accept(item: DocumentRequestItem, by, capture) -> None:
    """The client's upload attached to the item, then accepted by staff (the
    signal goes out when the transaction commits)."""
    organization = item.organization
    with tenant_context(organization):
        document = Document.objects.create(
            organization=organization,
            client_id=item.request.client_id,
            title=f"{item.title} 2026",
            original_filename="w2.pdf",
            file=f"private/{organization.pk}/documents/{item.pk}",
            size=3,
            mime_type="application/pdf",
            checksum="0" * 64,
            uploaded_by=by,
        )
        with capture(execute=True):
            item = document_request_item_attach(item=item, document=document, by=by)
            document_request_item_accept(item=item, by=by)


def _link(task, target, by):
    with tenant_context(task.organization):
        return task_link_request(task=task, request_or_item=target, by=by)


def test_accepting_the_requested_document_completes_the_waiting_task(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    waiting = tasks_of(execution)["Receive W-2"]
    w2 = _items(w2_request)["W-2"]
    _link(waiting, w2, cast.sam)

    _send_and_accept(w2, cast.alice, django_capture_on_commit_callbacks)

    tasks = tasks_of(execution)
    assert tasks["Receive W-2"].status == TaskStatus.COMPLETED
    assert tasks["Receive W-2"].completed_by is None  # the system
    assert tasks["Prepare return"].status == TaskStatus.READY  # the next step
    assert fresh(execution).tasks_done == 1
    with tenant_context(cast.alpha):
        [comment] = TaskComment.objects.filter(task=waiting)
    assert comment.author is None
    assert comment.body == "Completed automatically: “W-2” was accepted."


def test_another_item_of_the_request_completes_nothing(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    _link(tasks_of(execution)["Receive W-2"], _items(w2_request)["W-2"], cast.sam)

    _send_and_accept(
        _items(w2_request)["1099-INT"], cast.alice, django_capture_on_commit_callbacks
    )

    assert tasks_of(execution)["Receive W-2"].status == TaskStatus.READY


def test_a_task_waiting_for_the_whole_request_completes_with_its_last_item(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    template = make_template(
        cast.alpha,
        "1040",
        [("All documents in", {"completes_on": "request_fulfilled"})],
    )
    execution = start(template, jane)
    _link(tasks_of(execution)["All documents in"], w2_request, cast.sam)
    items = _items(w2_request)

    _send_and_accept(items["W-2"], cast.alice, django_capture_on_commit_callbacks)
    assert tasks_of(execution)["All documents in"].status == TaskStatus.READY

    _send_and_accept(items["1099-INT"], cast.alice, django_capture_on_commit_callbacks)
    task = tasks_of(execution)["All documents in"]
    assert task.status == TaskStatus.COMPLETED
    assert fresh(execution).status == "completed"


def test_a_step_that_needs_approval_goes_to_review_instead(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    template = make_template(
        cast.alpha,
        "1040",
        [
            (
                "Receive W-2",
                {"completes_on": "request_item_fulfilled", "needs_approval": True},
            )
        ],
    )
    execution = start(template, jane)
    _link(tasks_of(execution)["Receive W-2"], _items(w2_request)["W-2"], cast.sam)

    _send_and_accept(
        _items(w2_request)["W-2"], cast.alice, django_capture_on_commit_callbacks
    )

    assert tasks_of(execution)["Receive W-2"].status == TaskStatus.IN_REVIEW


def test_a_paused_workflow_is_left_alone_and_the_acceptance_stands(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    _link(tasks_of(execution)["Receive W-2"], _items(w2_request)["W-2"], cast.sam)
    with tenant_context(cast.alpha):
        execution_pause(execution=execution, by=cast.alice)

    _send_and_accept(
        _items(w2_request)["W-2"], cast.alice, django_capture_on_commit_callbacks
    )

    assert tasks_of(execution)["Receive W-2"].status == TaskStatus.READY
    assert _items(w2_request)["W-2"].status == DocumentRequestItem.Status.ACCEPTED


def test_linking_to_an_item_already_accepted_completes_the_task_at_once(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    w2 = _items(w2_request)["W-2"]
    _send_and_accept(w2, cast.alice, django_capture_on_commit_callbacks)
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)

    task = _link(
        tasks_of(execution)["Receive W-2"], _items(w2_request)["W-2"], cast.sam
    )

    assert task.status == TaskStatus.COMPLETED
    assert tasks_of(execution)["Prepare return"].status == TaskStatus.READY


def test_a_task_links_only_to_its_own_clients_requests(
    cast, jane, w2_request, make_template, make_wf_client, start
):
    other = make_wf_client(cast.alpha, "Acme Corp")
    execution = start(make_template(cast.alpha, "1040", STEPS), other)

    with pytest.raises(ValidationError, match="document request of the task.s client"):
        _link(tasks_of(execution)["Receive W-2"], w2_request, cast.sam)


def test_unlinking_stops_the_waiting(
    cast, jane, w2_request, make_template, start, django_capture_on_commit_callbacks
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    task = tasks_of(execution)["Receive W-2"]
    _link(task, _items(w2_request)["W-2"], cast.sam)

    unlinked = _link(task, None, cast.sam)
    _send_and_accept(
        _items(w2_request)["W-2"], cast.alice, django_capture_on_commit_callbacks
    )

    assert (unlinked.completes_on, unlinked.completes_on_target) == (
        CompletesOn.MANUAL,
        "",
    )
    assert tasks_of(execution)["Receive W-2"].status == TaskStatus.READY


def test_an_accepted_engagement_letter_completes_its_workflows_waiting_step(
    cast, jane, make_template, make_wf_engagement, start
):
    engagement = make_wf_engagement(jane, "2026 return")
    other = make_wf_engagement(jane, "2026 bookkeeping")
    template = make_template(
        cast.alpha,
        "Onboarding",
        [
            ("Letter signed", {"completes_on": "letter_accepted"}),
            ("Kick-off call", {"after": ["Letter signed"]}),
        ],
    )
    mine = start(template, jane, engagement=engagement)
    theirs = start(template, jane, engagement=other)

    # Sent the way clients.services.engagements.engagement_letter_accept does.
    with tenant_context(cast.alpha):
        engagement_letter_accepted.send(
            sender=Engagement,
            engagement=engagement,
            accepted_by=None,
            accepted_by_name="Jane Doe",
        )

    assert tasks_of(mine)["Letter signed"].status == TaskStatus.COMPLETED
    assert tasks_of(mine)["Kick-off call"].status == TaskStatus.READY
    assert tasks_of(theirs)["Letter signed"].status == TaskStatus.READY


# The link endpoint -----------------------------------------------------------------


def _url(task) -> str:
    return f"/o/alpha/tasks/{task.uuid}/link-request/"


def test_staff_link_a_task_to_a_request_item_from_the_task_page(
    cast, jane, w2_request, make_template, start, login_as
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    task = tasks_of(execution)["Receive W-2"]
    w2 = _items(w2_request)["W-2"]

    response = login_as(cast.sam).post(
        _url(task), {"target": f"item:{w2.uuid}"}, follow=True
    )

    linked = fresh(task)
    assert (linked.completes_on, linked.completes_on_target) == (
        CompletesOn.REQUEST_ITEM_FULFILLED,
        f"documents.documentrequestitem:{w2.pk}",
    )
    assert response.redirect_chain[-1][0] == f"/o/alpha/tasks/{task.uuid}/"
    assert "completes by itself" in response.content.decode()


def test_another_clients_or_firms_request_is_not_found(
    cast, jane, w2_request, make_template, make_wf_client, start, login_as
):
    other = make_wf_client(cast.alpha, "Acme Corp")
    execution = start(make_template(cast.alpha, "1040", STEPS), other)
    task = tasks_of(execution)["Receive W-2"]
    client = login_as(cast.sam)

    assert (
        client.post(_url(task), {"target": f"request:{w2_request.uuid}"}).status_code
        == 404
    )
    assert fresh(task).completes_on_target == ""
    beta = login_as(cast.oscar)
    assert beta.post(f"/o/beta/tasks/{task.uuid}/link-request/").status_code == 404


def test_a_bad_target_is_explained(cast, jane, make_template, start, login_as):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    task = tasks_of(execution)["Receive W-2"]

    response = login_as(cast.sam).post(
        _url(task), {"target": "item:nonsense"}, follow=True
    )

    assert "Choose a request or one of its items." in response.content.decode()


def test_a_read_only_member_cannot_link(
    cast, jane, w2_request, make_template, start, login_as
):
    execution = start(make_template(cast.alpha, "1040", STEPS), jane)
    task = tasks_of(execution)["Receive W-2"]

    response = login_as(cast.rita).post(
        _url(task), {"target": f"request:{w2_request.uuid}"}
    )

    assert response.status_code == 403
    assert fresh(task).completes_on_target == ""
