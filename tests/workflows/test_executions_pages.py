"""The workflow list, starting a workflow, and the workflow page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import Client
from clients.services.clients import client_create
from tests.workflows.conftest import fresh, move, tasks_of
from workflows.models import (
    ExecutionStatus,
    Task,
    TaskStatus,
    WorkflowExecution,
)

pytestmark = pytest.mark.django_db

LIST = "/o/alpha/workflows/"
START = "/o/alpha/workflows/start/"
STEPS = [
    ("Gather documents", {"budgeted_minutes": 30}),
    ("Send organizer", {}),
    ("Prepare return", {"after": ["Gather documents", "Send organizer"]}),
]


@pytest.fixture
def template(cast, make_template):
    return make_template(cast.alpha, "1040", STEPS)


def _names(response):
    return [e.name for e in response.context["page"].rows]


def _detail(execution):
    return f"/o/alpha/workflows/{execution.uuid}/"


# The list --------------------------------------------------------------------------


def test_the_list_shows_open_workflows_with_their_progress(
    cast, login_as, template, jane, start
):
    execution = start(template, jane, due_date=date(2027, 4, 15))
    move(tasks_of(execution)["Gather documents"], TaskStatus.COMPLETED, cast.sam)

    response = login_as(cast.rita).get(LIST)

    assert response.status_code == 200
    assert _names(response) == ["1040 – Jane Doe"]
    assert 'value="1"' in response.content.decode()
    assert "1/3" in response.content.decode()


def test_the_list_filters_by_status_template_client_and_person(
    cast, login_as, template, jane, start, make_template, make_wf_client
):
    other_template = make_template(cast.alpha, "Close", [("Reconcile", {})])
    bob = make_wf_client(cast.alpha, "Bob Roe")
    a = start(template, jane, due_date=date(2027, 4, 15))
    b = start(other_template, bob, due_date=date(2027, 3, 20))
    c = start(other_template, jane, due_date=date(2027, 3, 25))
    move(tasks_of(c)["Reconcile"], TaskStatus.COMPLETED, cast.sam)
    with tenant_context(cast.alpha):
        Task.objects.filter(execution=b).update(assignee=cast.sam)
    client = login_as(cast.sam)

    assert _names(client.get(LIST)) == [b.name, a.name]  # by due date, open only
    assert _names(client.get(LIST, {"status": "completed"})) == [c.name]
    assert _names(client.get(LIST, {"status": "all"})) == [b.name, c.name, a.name]
    assert _names(client.get(LIST, {"template": str(template.uuid)})) == [a.name]
    assert _names(client.get(LIST, {"client": str(jane.uuid), "status": "all"})) == [
        c.name,
        a.name,
    ]
    assert _names(client.get(LIST, {"assignee": "me"})) == [b.name]
    assert _names(client.get(LIST, {"sort": "newest", "status": "all"})) == [
        c.name,
        b.name,
        a.name,
    ]


def test_the_overdue_filter_shows_open_workflows_past_their_due_date(
    cast, login_as, template, jane, start
):
    late = start(template, jane, start_date=date(2020, 1, 1), due_date=date(2020, 2, 1))
    start(template, jane, name="On time", due_date=date(2999, 1, 1))

    response = login_as(cast.sam).get(LIST, {"status": "overdue"})

    assert _names(response) == [late.name]
    assert "Overdue" in response.content.decode()


def test_another_firms_client_in_the_filter_shows_nothing(
    cast, login_as, template, jane, start, make_wf_client
):
    start(template, jane)
    theirs = make_wf_client(cast.beta, "Beta Client")

    response = login_as(cast.sam).get(LIST, {"client": str(theirs.uuid)})

    assert _names(response) == []
    assert "Nothing matches" in response.content.decode()


def test_the_list_pages_with_a_keyset_cursor(cast, login_as, template, jane, start):
    for i in range(52):
        start(
            template, jane, name=f"W{i:02d}", due_date=date(2027, 4, 1) + timedelta(i)
        )
    client = login_as(cast.sam)

    first = client.get(LIST)
    second = client.get(LIST, {"cursor": first.context["page"].next_cursor})

    assert len(_names(first)) == 50
    assert _names(second) == ["W50", "W51"]
    assert not second.context["page"].has_next


def test_the_list_makes_the_same_number_of_queries_for_3_or_40_workflows(
    cast, login_as, template, jane, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(LIST)  # the first request also writes the session
    for count in (3, 37):
        with tenant_context(cast.alpha):
            WorkflowExecution.objects.bulk_create(
                WorkflowExecution(
                    organization=cast.alpha,
                    template=template,
                    client=jane,
                    name=f"W {count} {i}",
                    start_date=date(2027, 3, 1),
                    due_date=date(2027, 4, 1),
                    tasks_total=3,
                    tasks_done=i % 4,
                )
                for i in range(count)
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 templates for the filter, 6 members
        # for the filter, 7 a page of workflows with clients and templates (the person
        # filter is a subquery), 8 reset the RLS context.
        with django_assert_num_queries(8):
            response = client.get(LIST, {"assignee": "", "template": ""})
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 40


def test_assigned_only_staff_see_the_workflows_of_their_clients(
    cast, login_as, template, jane, start, make_wf_client
):
    with platform_bypass():
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    other = start(template, make_wf_client(cast.alpha, "Not Sams"))
    mine = start(template, jane)
    client = login_as(cast.sam)

    assert _names(client.get(LIST)) == [mine.name]
    assert client.get(_detail(other)).status_code == 404


# Starting -------------------------------------------------------------------------


def test_the_start_page_preselects_the_client_from_the_client_page(
    cast, login_as, template, jane, make_wf_engagement
):
    make_wf_engagement(jane, "2026 return")

    response = login_as(cast.sam).get(START, {"client": str(jane.uuid)})

    assert response.status_code == 200
    form = response.context["form"]
    assert form["client"].value() == str(jane.uuid)
    assert form["template"].value() == str(template.uuid)  # the only one
    assert [label for _, label in form.fields["engagement"].choices][1:] == [
        "2026 return"
    ]


def _client_choices(response) -> list[str]:
    return [label for _, label in response.context["form"].fields["client"].choices][1:]


def test_a_small_firm_picks_from_every_client_without_a_search(
    cast, login_as, template, jane, make_wf_client
):
    make_wf_client(cast.alpha, "Adam Apple", client_code="APPLE")

    response = login_as(cast.sam).get(START)

    assert _client_choices(response) == [
        "Adam Apple (APPLE)",
        f"Jane Doe ({jane.client_code})",
    ]
    assert 'data-testid="client-find"' not in response.content.decode()


def test_a_large_firm_finds_its_client_first_in_a_bounded_list(
    cast,
    login_as,
    template,
    jane,
    make_wf_client,
    monkeypatch,
    django_assert_num_queries,
):
    monkeypatch.setattr("workflows.selectors.CLIENT_CHOICES_CAP", 3)
    with tenant_context(cast.alpha):  # through the service: search tokens too
        for name in ("Able", "Baker", "Carter", "Dalton", "Smith Widgets"):
            client_create(
                organization=cast.alpha,
                data={"display_name": f"{name} Co", "client_code": name[:5].upper()},
            )
    with platform_bypass():
        beta_client = Client.objects.create(
            organization=cast.beta, display_name="Beta's Client", client_code="BETA1"
        )
    web = login_as(cast.sam)

    first = web.get(START)
    assert _client_choices(first) == [
        "Able Co (ABLE)",
        "Baker Co (BAKER)",
        "Carter Co (CARTE)",
    ]
    assert 'data-testid="client-find"' in first.content.decode()

    found = web.get(START, {"find": "smith"})
    assert _client_choices(found) == ["Smith Widgets Co (SMITH)"]
    assert 'value="smith"' in found.content.decode()

    # The client page's link names a client beyond the first ones: it is offered.
    chosen = web.get(START, {"client": str(jane.uuid)})
    assert _client_choices(chosen)[0] == f"Jane Doe ({jane.client_code})"
    assert chosen.context["form"]["client"].value() == str(jane.uuid)

    # Another firm's client is never offered, whatever the URL says.
    forged = web.get(START, {"client": str(beta_client.uuid), "find": "beta"})
    assert _client_choices(forged) == []
    assert "No client matches" in forged.content.decode()

    # The frame (4), templates, clients, the chosen client, its engagements,
    # the RLS reset: the same however many clients the firm has.
    for more in (0, 30):
        for i in range(more):
            make_wf_client(cast.alpha, f"Zed {i}", client_code=f"ZED{i}")
        with django_assert_num_queries(9):
            web.get(START, {"client": str(jane.uuid)})


def test_starting_a_workflow_for_a_client_and_engagement(
    cast, login_as, template, jane, make_wf_engagement
):
    engagement = make_wf_engagement(jane, "2026 return", preparer=cast.sam)

    response = login_as(cast.sam).post(
        START,
        {
            "template": str(template.uuid),
            "client": str(jane.uuid),
            "engagement": str(engagement.uuid),
            "start_date": "2027-03-01",
            "due_date": "2027-04-15",
            "name": "",
        },
    )

    with tenant_context(cast.alpha):
        execution = WorkflowExecution.objects.get()
    assert response.url == _detail(execution)
    assert (execution.name, execution.engagement_id, execution.created_by_id) == (
        "1040 – Jane Doe",
        engagement.pk,
        cast.sam.pk,
    )
    assert execution.tasks_total == 3


def test_another_firms_template_or_client_cannot_start_a_workflow(
    cast, login_as, template, jane, make_template, make_wf_client
):
    their_template = make_template(cast.beta, "Beta 1040", [("Only", {})])
    their_client = make_wf_client(cast.beta, "Beta Client")
    client = login_as(cast.sam)

    for data in (
        {"template": str(their_template.uuid), "client": str(jane.uuid)},
        {"template": str(template.uuid), "client": str(their_client.uuid)},
    ):
        response = client.post(START, {**data, "start_date": "2027-03-01"})
        assert response.status_code == 200
        assert response.context["form"].errors
    with platform_bypass():
        assert not WorkflowExecution.objects.exists()


def test_an_engagement_of_another_client_is_not_a_choice(
    cast, login_as, template, jane, make_wf_client, make_wf_engagement
):
    bobs = make_wf_engagement(make_wf_client(cast.alpha, "Bob Roe"), "Bob's return")

    response = login_as(cast.sam).post(
        START,
        {
            "template": str(template.uuid),
            "client": str(jane.uuid),
            "engagement": str(bobs.uuid),
            "start_date": "2027-03-01",
        },
    )

    assert response.status_code == 200
    assert "engagement" in response.context["form"].errors
    with tenant_context(cast.alpha):
        assert not WorkflowExecution.objects.exists()


def test_a_due_date_before_the_start_is_refused_on_the_form(
    cast, login_as, template, jane
):
    response = login_as(cast.sam).post(
        START,
        {
            "template": str(template.uuid),
            "client": str(jane.uuid),
            "start_date": "2027-03-01",
            "due_date": "2027-02-01",
        },
    )

    assert response.context["form"].errors["due_date"] == [
        "The due date cannot be before the start date."
    ]


def test_a_read_only_member_cannot_start_a_workflow(cast, login_as, template, jane):
    client = login_as(cast.rita)

    assert client.get(START).status_code == 403
    assert client.post(START, {"template": str(template.uuid)}).status_code == 403


# The workflow page ------------------------------------------------------------------


def test_the_workflow_page_shows_steps_dependencies_and_time(
    cast, login_as, template, jane, start
):
    execution = start(template, jane)

    response = login_as(cast.rita).get(_detail(execution))

    body = response.content.decode()
    assert response.status_code == 200
    assert "waits for: Gather documents, Send organizer" in body
    assert "0 of 3 done" in body
    assert "0 of 30 min" in body
    assert "Pause" not in body  # read-only: no buttons


def test_the_workflow_page_costs_the_same_queries_for_3_or_30_steps(
    cast, login_as, jane, start, make_template, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(LIST)
    for n in (3, 30):
        steps = [(f"S{i}", {"after": [f"S{i - 1}"]} if i else {}) for i in range(n)]
        execution = start(make_template(cast.alpha, f"T{n}", steps), jane)
        with tenant_context(cast.alpha):
            Task.objects.filter(execution=execution).update(assignee=cast.sam)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the workflow with client, template
        # and engagement, 6 its tasks with assignees, 7 their dependency links, 8
        # members for the new-task form, 9 reset the RLS context.
        with django_assert_num_queries(9):
            response = client.get(_detail(execution))
        assert response.status_code == 200
    assert len(response.context["tasks"]) == 30


def test_pause_resume_and_cancel_from_the_workflow_page(
    cast, login_as, template, jane, start
):
    execution = start(template, jane)
    url = _detail(execution)

    login_as(cast.sam).post(f"{url}pause/")
    assert fresh(execution).status == ExecutionStatus.PAUSED
    login_as(cast.sam).post(f"{url}resume/")
    assert fresh(execution).status == ExecutionStatus.ACTIVE
    response = login_as(cast.sam).post(f"{url}cancel/", follow=True)
    assert "This needs the Manager role or higher." in response.content.decode()
    login_as(cast.alice).post(f"{url}cancel/")
    assert fresh(execution).status == ExecutionStatus.CANCELLED


def test_adding_an_adhoc_task_from_the_workflow_page(
    cast, login_as, template, jane, start
):
    execution = start(template, jane)

    response = login_as(cast.sam).post(
        f"{_detail(execution)}tasks/new/",
        {
            "title": "Call about the K-1",
            "assignee": str(cast.adam.uuid),
            "priority": "high",
        },
    )

    assert response.status_code == 302
    task = tasks_of(execution)["Call about the K-1"]
    assert (task.assignee, task.priority, task.status) == (
        cast.adam,
        "high",
        TaskStatus.READY,
    )
    assert fresh(execution).tasks_total == 4


def test_an_adhoc_task_without_a_title_says_so(cast, login_as, template, jane, start):
    execution = start(template, jane)

    response = login_as(cast.sam).post(
        f"{_detail(execution)}tasks/new/",
        {"title": "", "priority": "normal"},
        follow=True,
    )

    assert "This field is required." in response.content.decode()
    assert fresh(execution).tasks_total == 3


def test_another_firms_workflow_is_not_found(
    cast, login_as, make_template, start, make_wf_client
):
    theirs = start(
        make_template(cast.beta, "Beta", [("Only", {})]),
        make_wf_client(cast.beta, "Beta Client"),
    )
    client = login_as(cast.alice)

    assert client.get(_detail(theirs)).status_code == 404
    assert client.post(f"{_detail(theirs)}pause/").status_code == 404
    assert fresh(theirs).status == ExecutionStatus.ACTIVE
    with platform_bypass():
        assert Client.objects.filter(organization=cast.beta).count() == 1
