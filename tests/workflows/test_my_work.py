"""My work: the member's open tasks by due date, overdue first, with quick actions."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from tests.factories import make_execution
from tests.workflows.pages import days, make_task, make_tasks
from workflows.models import Task

URL = "/o/alpha/work/"


def _titles(response) -> list[str]:
    return [t.title for t in response.context["page"].rows]


def test_it_lists_my_actionable_tasks_overdue_first_then_by_due_date(cast, login_as):
    a = cast.alpha
    make_task(a, "No date", assignee=cast.sam)
    make_task(a, "Later", assignee=cast.sam, due_date=days(30, a))
    make_task(a, "Today", assignee=cast.sam, due_date=days(0, a))
    make_task(a, "Long overdue", assignee=cast.sam, due_date=days(-20, a))
    make_task(a, "Overdue", assignee=cast.sam, due_date=days(-1, a), status="in_review")
    make_task(
        a, "Started", assignee=cast.sam, due_date=days(1, a), status="in_progress"
    )
    # Not on the list: someone else's, waiting, done, cancelled.
    make_task(a, "Alice's", assignee=cast.alice, due_date=days(-5, a))
    make_task(a, "Waiting", assignee=cast.sam, status="pending", due_date=days(-9, a))
    make_task(a, "Done", assignee=cast.sam, status="completed", due_date=days(-9, a))
    make_task(a, "Dropped", assignee=cast.sam, status="cancelled")

    response = login_as(cast.sam).get(URL)

    assert response.status_code == 200
    titles = _titles(response)
    assert titles[:3] == ["Long overdue", "Overdue", "Today"]
    assert titles[-1] == "No date"
    assert set(titles) == {
        "Long overdue",
        "Overdue",
        "Today",
        "Started",
        "Later",
        "No date",
    }
    summary = response.context["summary"]
    assert summary["overdue"] == 2
    assert summary["today"] == 1
    assert summary["waiting"] == 1
    assert summary["open"] == 6


def test_rows_are_grouped_by_when_they_are_due(cast, login_as):
    a = cast.alpha
    make_task(a, "Overdue", assignee=cast.sam, due_date=days(-1, a))
    make_task(a, "Today", assignee=cast.sam, due_date=days(0, a))
    make_task(a, "Later", assignee=cast.sam, due_date=days(40, a))
    make_task(a, "Undated", assignee=cast.sam)

    html = login_as(cast.sam).get(URL).content.decode()
    html = html[html.index('data-testid="my-work-rows"') :]

    positions = [
        html.index(label)
        for label in ("Overdue</th>", "Due today", "Later</th>", "No due date")
    ]
    assert positions == sorted(positions)
    assert 'class="task-row overdue"' in html


def test_a_row_shows_client_workflow_status_and_priority(
    cast, login_as, make_wf_client
):
    client = make_wf_client(cast.alpha, "Jane Doe")
    execution = make_execution(client, "2026 Form 1040")
    task = make_task(
        cast.alpha,
        "Review return",
        execution=execution,
        assignee=cast.sam,
        priority="urgent",
        status="in_progress",
    )

    html = login_as(cast.sam).get(URL).content.decode()

    assert f'href="/o/alpha/clients/{client.uuid}/"' in html and "Jane Doe" in html
    assert f'href="/o/alpha/workflows/{execution.uuid}/"' in html
    assert f'href="/o/alpha/tasks/{task.uuid}/"' in html
    assert "In progress" in html
    assert 'class="priority priority-urgent">Urgent<' in html


def test_an_empty_list_says_what_will_appear(cast, login_as):
    make_task(cast.alpha, "Waiting", assignee=cast.sam, status="pending")

    response = login_as(cast.sam).get(URL)

    assert response.context["page"].rows == []
    assert "Nothing on your plate" in response.content.decode()
    assert "1 of your task waits for earlier steps" in response.content.decode()


# Quick actions ---------------------------------------------------------------------


def test_quick_actions_offer_the_moves_the_task_service_allows(cast, login_as):
    ready = make_task(cast.alpha, "Ready one", assignee=cast.sam)
    review = make_task(
        cast.alpha, "Needs review", assignee=cast.sam, needs_approval=True
    )

    response = login_as(cast.sam).get(URL)

    rows = {t.title: t for t in response.context["page"].rows}
    assert [s for s, _ in rows[ready.title].quick_actions] == [
        "in_progress",
        "completed",
    ]
    # Sam may not approve his own work: only "send for review" after starting.
    assert [s for s, _ in rows[review.title].quick_actions] == [
        "in_progress",
        "in_review",
    ]


def test_starting_a_task_with_htmx_swaps_its_row(cast, login_as):
    task = make_task(cast.alpha, "Gather documents", assignee=cast.sam)

    response = login_as(cast.sam).post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "in_progress"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<tr")
    assert "In progress" in html and "is now in progress" in html
    with tenant_context(cast.alpha):
        task.refresh_from_db()
    assert task.status == "in_progress" and task.started_at is not None


def test_completing_a_task_leaves_a_done_line_in_its_place(cast, login_as):
    task = make_task(cast.alpha, "File return", assignee=cast.sam, status="in_progress")

    response = login_as(cast.sam).post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "completed"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "✓ “File return” is now completed." in response.content.decode()
    with tenant_context(cast.alpha):
        assert Task.objects.get(pk=task.pk).status == "completed"


def test_a_refused_move_explains_itself_in_the_row(cast, login_as):
    task = make_task(cast.alpha, "Sign off", assignee=cast.sam, needs_approval=True)

    response = login_as(cast.sam).post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "completed"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "needs approval" in response.content.decode()
    with tenant_context(cast.alpha):
        assert Task.objects.get(pk=task.pk).status == "ready"


def test_without_javascript_a_quick_action_redirects_back_with_a_message(
    cast, login_as
):
    task = make_task(cast.alpha, "Gather documents", assignee=cast.sam)
    client = login_as(cast.sam)

    response = client.post(
        f"/o/alpha/tasks/{task.uuid}/move/", {"status": "in_progress", "next": URL}
    )

    assert response.status_code == 302 and response.url == URL
    assert "is now in progress" in client.get(URL).content.decode()


def test_a_read_only_member_sees_no_actions_and_cannot_post(cast, login_as):
    task = make_task(cast.alpha, "Gather documents", assignee=cast.rita)
    client = login_as(cast.rita)

    html = client.get(URL).content.decode()
    response = client.post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "in_progress"},
        headers={"HX-Request": "true"},
    )

    assert "Gather documents" in html
    assert "/move/" not in html
    assert response.status_code == 403
    with tenant_context(cast.alpha):
        assert Task.objects.get(pk=task.pk).status == "ready"


def test_the_next_link_continues_where_the_page_ended(cast, login_as):
    make_tasks(cast.alpha, 60, assignee=cast.sam)
    client = login_as(cast.sam)

    first = client.get(URL)
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})

    assert len(first.context["page"].rows) == 50
    assert _titles(second) == [f"Task {i:03d}" for i in range(50, 60)]
    assert second.context["page"].has_previous


# Speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("assigned_only", [False, True])
def test_the_query_count_does_not_grow_with_tasks(
    cast, login_as, make_wf_client, django_assert_num_queries, assigned_only
):
    if assigned_only:
        with platform_bypass():
            Organization.objects.filter(pk=cast.alpha.pk).update(
                assigned_clients_only=True
            )
    client = login_as(cast.sam)
    client.get(URL)  # settles the session's first-visit writes
    for n in (3, 60):
        customer = make_wf_client(cast.alpha, f"Client {n}", client_code=f"C{n}")
        execution = make_execution(customer, f"Workflow {n}")
        make_tasks(
            cast.alpha, n, assignee=cast.sam, execution=execution, client=customer
        )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the page of tasks with client,
        # workflow and engagement, 6 the summary counts, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(URL)
        assert response.status_code == 200


def test_a_rows_text_is_escaped(cast, login_as, make_wf_client):
    client = make_wf_client(cast.alpha, "<b>Bold</b> & Co")
    make_task(cast.alpha, '<img src=x onerror="y">', client=client, assignee=cast.sam)

    html = login_as(cast.sam).get(URL).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;y&quot;&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html


def test_every_field_people_type_is_escaped_in_the_page_and_in_a_swapped_row(
    cast, login_as, make_wf_client
):
    """The title, client and workflow are typed by people: each comes out as
    text, in the list and in the row (with its "is now" line) an htmx action
    answers. The title opens with a quote, to break out of an attribute."""
    client = make_wf_client(cast.alpha, "<script>client()</script>")
    execution = make_execution(client, "<script>workflow()</script>")
    task = make_task(
        cast.alpha, '"><script>title()</script>', execution=execution, assignee=cast.sam
    )
    http = login_as(cast.sam)

    page = http.get(URL).content.decode()
    row = http.post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "in_progress"},
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "is now in progress" in row
    for html in (page, row):
        for field in ("title", "client", "workflow"):
            assert f"<script>{field}()" not in html
            assert f"&lt;script&gt;{field}()&lt;/script&gt;" in html
        assert '"><script>' not in html
    assert "“&quot;&gt;&lt;script&gt;title()&lt;/script&gt;” is now" in row
