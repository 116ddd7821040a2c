"""The team board: columns by status, bounded columns, filters, moving a card."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from tests.factories import make_execution
from tests.workflows.pages import days, make_task, make_tasks
from workflows.models import Task
from workflows.views import board as board_view

URL = "/o/alpha/work/board/"
JSON = {"Accept": "application/json"}


def _columns(response) -> dict[str, list[str]]:
    return {
        col["status"]: [t.title for t in col["cards"]]
        for col in response.context["columns"]
    }


def _move(client, task, status, **headers):
    return client.post(
        f"/o/alpha/tasks/{task.uuid}/move/", {"status": status}, headers=headers
    )


def _status(task) -> str:
    with tenant_context(task.organization):
        return Task.objects.get(pk=task.pk).status


# The columns -------------------------------------------------------------------------


def test_cards_sit_in_the_column_of_their_status_soonest_due_first(cast, login_as):
    a = cast.alpha
    make_task(a, "Later", due_date=days(9, a))
    make_task(a, "Undated")
    make_task(a, "Soon", due_date=days(1, a))
    make_task(a, "Blocked", status="pending")
    make_task(a, "Working", status="in_progress", assignee=cast.sam)
    make_task(a, "Checking", status="in_review")
    make_task(a, "Done lately", status="completed")
    make_task(
        a,
        "Done long ago",
        status="completed",
        completed_at=timezone.now() - timedelta(days=40),
    )
    make_task(a, "Skipped", status="skipped")
    make_task(a, "Dropped", status="cancelled")

    response = login_as(cast.sam).get(URL)

    assert response.status_code == 200
    # The waiting column is only counted: its tasks open with "Show them".
    assert response.context["columns"][0]["count"] == 1
    assert _columns(response) == {
        "pending": [],
        "ready": ["Soon", "Later", "Undated"],
        "in_progress": ["Working"],
        "in_review": ["Checking"],
        "completed": ["Done lately"],
    }


def test_a_card_shows_title_client_assignee_due_date_and_priority(
    cast, login_as, make_wf_client
):
    client = make_wf_client(cast.alpha, "Jane Doe")
    execution = make_execution(client, "2026 Form 1040")
    make_task(
        cast.alpha,
        "Prepare return",
        execution=execution,
        assignee=cast.sam,
        priority="high",
        due_date=days(-3, cast.alpha),
    )

    html = login_as(cast.alice).get(URL).content.decode()

    card = html[html.rindex("<li", 0, html.index('data-testid="board-card"')) :]
    card = card[: card.index("</li>")]
    assert "Prepare return" in card
    assert "Jane Doe" in card and "2026 Form 1040" in card
    assert f'href="/o/alpha/workflows/{execution.uuid}/"' in card
    assert "Sam Staff" in card
    assert 'class="card-due overdue-text"' in card and "Overdue" in card
    assert 'class="priority priority-high">High<' in card
    assert 'draggable="true"' in card


def test_each_column_shows_a_bounded_number_of_cards_and_a_capped_count(cast, login_as):
    make_tasks(cast.alpha, board_view.COUNT_CAP + 5, prefix="Ready")
    make_tasks(
        cast.alpha, board_view.COLUMN_SIZE + 1, prefix="Started", status="in_progress"
    )
    make_task(cast.alpha, "Only one", status="in_review")

    response = login_as(cast.alice).get(URL)

    columns = {c["status"]: c for c in response.context["columns"]}
    ready, started, review = (columns[s] for s in ("ready", "in_progress", "in_review"))
    assert len(ready["cards"]) == board_view.COLUMN_SIZE and ready["more"]
    assert ready["capped"]  # counted up to the cap, not through the whole firm
    assert ready["more_url"] == f"{URL}?column=ready"
    assert started["more"] and not started["capped"]
    assert started["count"] == board_view.COLUMN_SIZE + 1
    assert not review["more"] and review["count"] == 1
    html = response.content.decode()
    assert f"{board_view.COUNT_CAP}+" in html
    assert f"More than {board_view.COUNT_CAP}" in html
    assert f"All {board_view.COLUMN_SIZE + 1}" in html


def test_more_opens_the_column_alone_in_pages(cast, login_as):
    size = board_view.COLUMN_PAGE_SIZE
    make_tasks(cast.alpha, size + 3, prefix="Ready")
    client = login_as(cast.alice)

    first = client.get(URL, {"column": "ready"})
    second = client.get(
        URL, {"column": "ready", "cursor": first.context["page"].next_cursor}
    )

    assert [t.title for t in first.context["page"].rows] == [
        f"Ready {i:03d}" for i in range(size)
    ]
    assert [t.title for t in second.context["page"].rows] == [
        f"Ready {i:03d}" for i in range(size, size + 3)
    ]
    assert "Back to the board" in first.content.decode()


# Filters -----------------------------------------------------------------------------


def test_it_filters_by_assignee_me_and_unassigned(cast, login_as):
    make_task(cast.alpha, "Sam's", assignee=cast.sam)
    make_task(cast.alpha, "Alice's", assignee=cast.alice)
    make_task(cast.alpha, "Nobody's")
    client = login_as(cast.sam)

    assert _columns(client.get(URL, {"assignee": "me"}))["ready"] == ["Sam's"]
    assert _columns(client.get(URL, {"assignee": str(cast.alice.uuid)}))["ready"] == [
        "Alice's"
    ]
    assert _columns(client.get(URL, {"assignee": "none"}))["ready"] == ["Nobody's"]
    # Someone outside the firm matches nobody.
    assert _columns(client.get(URL, {"assignee": str(cast.oscar.uuid)}))["ready"] == []


def test_it_filters_by_client_workflow_template_and_category(
    cast, login_as, make_wf_client, make_template
):
    jane = make_wf_client(cast.alpha, "Jane Doe")
    acme = make_wf_client(cast.alpha, "Acme LLC")
    tax = make_template(cast.alpha, "1040", category="tax")
    books = make_template(cast.alpha, "Monthly close", category="bookkeeping")
    jane_1040 = make_execution(jane, "Jane 1040", template=tax)
    acme_close = make_execution(acme, "Acme close", template=books)
    make_task(cast.alpha, "Jane task", execution=jane_1040)
    make_task(cast.alpha, "Acme task", execution=acme_close)
    make_task(cast.alpha, "Firm task")
    client = login_as(cast.alice)

    by_client = client.get(URL, {"client": str(jane.uuid)})
    assert _columns(by_client)["ready"] == ["Jane task"]
    assert "Client: Jane Doe" in by_client.content.decode()
    assert _columns(client.get(URL, {"execution": str(acme_close.uuid)}))["ready"] == [
        "Acme task"
    ]
    assert _columns(client.get(URL, {"template": str(tax.uuid)}))["ready"] == [
        "Jane task"
    ]
    assert _columns(client.get(URL, {"category": "bookkeeping"}))["ready"] == [
        "Acme task"
    ]
    # Nonsense is ignored, not an error.
    assert (
        len(_columns(client.get(URL, {"client": "nope", "category": "x"}))["ready"])
        == 3
    )


def test_with_assigned_clients_only_staff_see_their_clients_work(
    cast, login_as, make_wf_client
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    mine = make_wf_client(cast.alpha, "Mine", staff=cast.sam)
    other = make_wf_client(cast.alpha, "Other", partner=cast.alice)
    make_task(cast.alpha, "My client's", client=mine)
    make_task(cast.alpha, "Other client's", client=other)
    make_task(cast.alpha, "Other client's, mine to do", client=other, assignee=cast.sam)
    make_task(cast.alpha, "Firm's own")

    sam = _columns(login_as(cast.sam).get(URL))["ready"]
    alice = _columns(login_as(cast.alice).get(URL))["ready"]

    assert sorted(sam) == ["Firm's own", "My client's", "Other client's, mine to do"]
    assert len(alice) == 4


# Moving a card -------------------------------------------------------------------------


def test_dropping_a_card_moves_it_and_answers_the_new_card(cast, login_as):
    task = make_task(cast.alpha, "Prepare return", assignee=cast.sam)

    response = _move(login_as(cast.sam), task, "in_progress", **JSON)

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["status"] == "in_progress"
    assert "is now in progress" in data["message"]
    assert 'data-status="in_progress"' in data["card"]
    assert _status(task) == "in_progress"


def test_an_illegal_move_answers_409_with_the_reason_and_changes_nothing(
    cast, login_as
):
    task = make_task(cast.alpha, "Review", assignee=cast.sam, status="pending")

    response = _move(login_as(cast.sam), task, "in_progress", **JSON)

    assert response.status_code == 409
    assert "cannot start yet" in json.loads(response.content)["error"]
    assert _status(task) == "pending"


def test_an_unknown_column_answers_400(cast, login_as):
    task = make_task(cast.alpha, "Review", assignee=cast.sam)

    response = _move(login_as(cast.sam), task, "done-ish", **JSON)

    assert response.status_code == 400
    assert json.loads(response.content)["error"]
    assert _status(task) == "ready"


def test_a_read_only_member_cannot_move_a_card(cast, login_as):
    task = make_task(cast.alpha, "Prepare return", assignee=cast.rita)
    client = login_as(cast.rita)

    html = client.get(URL).content.decode()
    response = _move(client, task, "in_progress", **JSON)

    assert response.status_code == 403
    assert _status(task) == "ready"
    assert 'draggable="true"' not in html and "data-card-move" not in html
    assert "data-drop" not in html


def test_another_firms_card_is_not_found(cast, login_as):
    task = make_task(cast.alpha, "Prepare return")

    response = login_as(cast.oscar).post(
        f"/o/beta/tasks/{task.uuid}/move/", {"status": "in_progress"}, headers=JSON
    )

    assert response.status_code == 404
    assert _status(task) == "ready"


def test_a_hidden_clients_card_is_not_found(cast, login_as, make_wf_client):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    other = make_wf_client(cast.alpha, "Other", partner=cast.alice)
    task = make_task(cast.alpha, "Prepare return", client=other)

    response = _move(login_as(cast.sam), task, "in_progress", **JSON)

    assert response.status_code == 404


def test_the_keyboard_menu_offers_the_legal_moves_and_works_without_javascript(
    cast, login_as
):
    task = make_task(cast.alpha, "Prepare return", assignee=cast.sam)
    client = login_as(cast.sam)

    html = client.get(URL).content.decode()
    response = client.post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "completed", "next": f"{URL}?assignee=me"},
    )

    assert 'aria-label="Move “Prepare return” to"' in html
    assert '<option value="in_progress">In progress</option>' in html
    assert '<option value="pending">' not in html
    assert response.status_code == 302 and response.url == f"{URL}?assignee=me"
    assert _status(task) == "completed"
    assert "is now completed" in client.get(URL).content.decode()


def test_a_refused_plain_move_comes_back_with_the_reason(cast, login_as):
    task = make_task(cast.alpha, "Review", assignee=cast.sam, status="pending")
    client = login_as(cast.sam)

    response = client.post(
        f"/o/alpha/tasks/{task.uuid}/move/", {"status": "in_progress"}, follow=True
    )

    assert response.redirect_chain[-1][0] == URL
    assert "cannot start yet" in response.content.decode()


def test_a_redirect_never_leaves_the_site(cast, login_as):
    task = make_task(cast.alpha, "Review", assignee=cast.sam)

    response = login_as(cast.sam).post(
        f"/o/alpha/tasks/{task.uuid}/move/",
        {"status": "in_progress", "next": "https://evil.example/"},
    )

    assert response.url == URL


# Speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"assignee": "me"}, {"column": "ready"}])
def test_the_query_count_does_not_grow_with_tasks(
    cast, login_as, make_wf_client, django_assert_num_queries, params
):
    client = login_as(cast.sam)
    client.get(URL)  # settles the session's first-visit writes
    for n in (2, 40):
        customer = make_wf_client(cast.alpha, f"Client {n}", client_code=f"C{n}")
        execution = make_execution(customer, f"Workflow {n}")
        for status in ("pending", "ready", "in_progress", "in_review", "completed"):
            make_tasks(
                cast.alpha,
                n,
                prefix=status,
                status=status,
                assignee=cast.sam,
                execution=execution,
                client=customer,
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms (the membership and the switcher), 5 the firm's members
        # (filter, card names), then either 6 every column's first cards (one
        # UNION ALL) and 7 every column's capped count, or 6 one column's page;
        # then the cards' 8 clients and 9 workflows with their engagements,
        # 10 templates for the filter, 11 reset the RLS context.
        expected = 10 if "column" in params else 11
        with django_assert_num_queries(expected):
            response = client.get(URL, params)
        assert response.status_code == 200


def test_a_cards_text_is_escaped(cast, login_as, make_wf_client):
    client = make_wf_client(cast.alpha, "<b>Bold</b> & Co")
    make_task(
        cast.alpha, '<script>alert("x")</script>', client=client, assignee=cast.sam
    )

    html = login_as(cast.sam).get(URL).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html


def test_every_field_people_type_is_escaped_in_the_page_and_in_a_moved_card(
    cast, login_as, make_wf_client, make_member
):
    """The title, client, workflow and assignee's name are typed by people: each
    comes out as text, in the board and in the card a move answers. The title
    opens with a quote, to break out of the menu's aria-label if it could."""
    eve = make_member(cast.alpha, "Eve <script>assignee()</script>", "staff")
    client = make_wf_client(cast.alpha, "<script>client()</script>")
    execution = make_execution(client, "<script>workflow()</script>")
    task = make_task(
        cast.alpha, '"><script>title()</script>', execution=execution, assignee=eve
    )
    http = login_as(eve)

    page = http.get(URL).content.decode()
    moved = _move(http, task, "in_progress", **JSON).json()["card"]

    assert "Move to…" in page  # the menu (and its aria-label) is drawn
    for html in (page, moved):
        for field in ("title", "client", "workflow", "assignee"):
            assert f"<script>{field}()" not in html
            assert f"&lt;script&gt;{field}()&lt;/script&gt;" in html
        assert '"><script>' not in html
    assert "“&quot;&gt;&lt;script&gt;title()&lt;/script&gt;”" in page
