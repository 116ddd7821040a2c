"""The client page's Workflows tab, and work on the client's timeline."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.timeline import client_timeline
from tests.factories import make_execution
from tests.workflows.pages import days, make_task, make_tasks
from workflows.models import WorkflowExecution
from workflows.timeline_sources import workflow_items


def _url(client, tab: str = "workflows") -> str:
    return f"/o/alpha/clients/{client.uuid}/?tab={tab}"


def test_the_tab_lists_the_clients_workflows_open_first_with_progress(
    cast, login_as, jane, make_wf_client
):
    done = make_execution(
        jane, "2025 Form 1040", status="completed", tasks_total=6, tasks_done=6
    )
    late = make_execution(
        jane, "Q1 estimates", due_date=days(-2, cast.alpha), tasks_total=3, tasks_done=1
    )
    soon = make_execution(
        jane,
        "2026 Form 1040",
        due_date=days(20, cast.alpha),
        tasks_total=8,
        tasks_done=2,
    )
    other = make_wf_client(cast.alpha, "Someone Else")
    make_execution(other, "Not Jane's")

    response = login_as(cast.sam).get(_url(jane))

    assert response.status_code == 200
    names = [e.name for e in response.context["executions"]]
    assert names == [late.name, soon.name, done.name]
    html = response.content.decode()
    assert 'data-testid="tab-workflows"' in html
    assert '<progress max="8" value="2"' in html and "2/8" in html
    assert "Not Jane's" not in html
    assert 'class="overdue"' in html  # the late one's row


def test_the_tab_lists_the_clients_open_tasks_by_due_date(cast, login_as, jane):
    execution = make_execution(jane, "2026 Form 1040")
    make_task(cast.alpha, "Later", execution=execution, due_date=days(9, cast.alpha))
    make_task(
        cast.alpha,
        "Overdue",
        execution=execution,
        due_date=days(-1, cast.alpha),
        assignee=cast.sam,
    )
    make_task(cast.alpha, "Waiting", execution=execution, status="pending")
    make_task(cast.alpha, "Done", execution=execution, status="completed")

    response = login_as(cast.alice).get(_url(jane))

    assert [t.title for t in response.context["open_tasks"]] == [
        "Overdue",
        "Later",
        "Waiting",
    ]
    assert "Sam Staff" in response.content.decode()


def test_staff_get_a_start_button_and_read_only_members_do_not(cast, login_as, jane):
    staff = login_as(cast.sam).get(_url(jane))
    readonly = login_as(cast.rita).get(_url(jane))

    assert response_has_start(staff)
    assert staff.context["start_url"] == f"/o/alpha/workflows/start/?client={jane.uuid}"
    assert 'data-testid="start-workflow"' not in readonly.content.decode()
    assert f"?client={jane.uuid}" in staff.context["board_url"]


def response_has_start(response) -> bool:
    return 'data-testid="start-workflow"' in response.content.decode()


def test_an_empty_tab_says_how_to_begin(cast, login_as, jane):
    html = login_as(cast.alice).get(_url(jane)).content.decode()

    assert "No workflows yet" in html
    assert "No open tasks for this client." in html


def test_the_tab_is_closed_with_the_client_page(cast, login_as, jane, make_wf_client):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    hidden = make_wf_client(cast.alpha, "Not Sam's", partner=cast.alice)
    make_execution(hidden, "Secret work")

    assert login_as(cast.sam).get(_url(hidden)).status_code == 404
    assert login_as(cast.oscar).get(_url(jane)).status_code == 404


def test_the_query_count_does_not_grow_with_rows(
    cast, login_as, jane, django_assert_num_queries
):
    web = login_as(cast.alice)
    web.get(_url(jane))  # the first request also writes the session
    for n in (2, 30):
        for i in range(n):
            execution = make_execution(jane, f"Workflow {n}-{i}", tasks_total=2)
        make_tasks(cast.alpha, n, execution=execution, client=jane, assignee=cast.sam)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms (the membership and the switcher), 5 the client with its
        # team, 6 its tags (the header); 7 the workflows, 8 the open tasks;
        # 9 reset the RLS context.
        with django_assert_num_queries(9):
            response = web.get(_url(jane))
        assert response.status_code == 200
        # An htmx tab switch skips the header's tags.
        with django_assert_num_queries(8):
            response = web.get(_url(jane), HTTP_HX_REQUEST="true")
        assert response.status_code == 200


# The timeline ----------------------------------------------------------------------


def _events(client, viewer, limit=50):
    with tenant_context(client.organization):
        return [
            (item.kind, item.title, item.actor)
            for item in client_timeline(client, viewer=viewer, limit=limit)
            if item.kind in ("task", "workflow")
        ]


def test_the_timeline_shows_tasks_completed_and_workflows_started_and_completed(
    cast, jane
):
    now = timezone.now()
    execution = make_execution(
        jane, "2026 Form 1040", created_by=cast.alice, tasks_total=2
    )
    with tenant_context(cast.alpha):
        WorkflowExecution.objects.filter(pk=execution.pk).update(
            created_at=now - timedelta(days=3)
        )
    make_task(
        cast.alpha,
        "Gather documents",
        execution=execution,
        status="completed",
        completed_by=cast.sam,
        completed_at=now - timedelta(days=2),
    )
    make_task(
        cast.alpha,
        "File return",
        execution=execution,
        status="completed",
        completed_at=now - timedelta(hours=1),
    )
    make_task(cast.alpha, "Still open", execution=execution)
    with tenant_context(cast.alpha):
        WorkflowExecution.objects.filter(pk=execution.pk).update(
            status="completed", completed_at=now - timedelta(minutes=30)
        )
    viewer = cast.membership(cast.alice, cast.alpha)

    events = _events(jane, viewer)

    assert events == [
        ("workflow", "Workflow completed: 2026 Form 1040", ""),
        ("task", "Task completed: File return", ""),
        ("task", "Task completed: Gather documents", "Sam Staff"),
        ("workflow", "Workflow started: 2026 Form 1040", "Alice Owner"),
    ]


def test_the_timeline_keeps_the_newest_events_within_its_limit(cast, jane):
    now = timezone.now()
    for i in range(4):
        execution = make_execution(jane, f"Old {i}")
        with tenant_context(cast.alpha):
            WorkflowExecution.objects.filter(pk=execution.pk).update(
                created_at=now - timedelta(days=30 + i)
            )
    make_task(cast.alpha, "Fresh", client=jane, status="completed", completed_at=now)
    viewer = cast.membership(cast.alice, cast.alpha)

    with tenant_context(cast.alpha):
        events = [
            (i.kind, i.title, i.actor)
            for i in workflow_items(jane, viewer=viewer, limit=2)
        ]

    assert events == [
        ("task", "Task completed: Fresh", ""),
        ("workflow", "Workflow started: Old 0", ""),
    ]


def test_the_timeline_source_is_one_query(cast, jane, django_assert_num_queries):
    for i in range(5):
        make_execution(jane, f"W{i}")
        make_task(cast.alpha, f"T{i}", client=jane, status="completed")
    viewer = cast.membership(cast.alice, cast.alpha)
    with tenant_context(cast.alpha):
        with django_assert_num_queries(1):
            items = list(workflow_items(jane, viewer=viewer, limit=50))

    assert len(items) == 10
