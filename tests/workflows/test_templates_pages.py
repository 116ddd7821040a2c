"""The template pages: the list with the starter library, and the editor's POSTs."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import tenant_context
from tests.workflows.conftest import fresh
from workflows.models import StepDependency, StepTemplate, WorkflowTemplate

pytestmark = pytest.mark.django_db

LIST = "/o/alpha/workflows/templates/"


@pytest.fixture
def template(cast, make_template):
    return make_template(
        cast.alpha,
        "1040",
        [
            ("Gather", {}),
            ("Prepare", {"after": ["Gather"]}),
            ("Review", {"after": ["Prepare"], "needs_approval": True}),
        ],
    )


@pytest.fixture
def manager(cast):
    return cast.mia


def _steps(template):
    with tenant_context(template.organization):
        return {s.title: s for s in StepTemplate.objects.filter(template=template)}


def _order(template):
    with tenant_context(template.organization):
        return list(
            StepTemplate.objects.filter(template=template)
            .order_by("position")
            .values_list("title", flat=True)
        )


def _editor(template):
    return f"/o/alpha/workflows/templates/{template.uuid}/"


def test_the_list_shows_the_firms_templates_and_the_starter_library(
    cast, login_as, template
):
    response = login_as(cast.sam).get(LIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert "1040" in body
    assert "Individual income tax return (1040)" in body
    assert "Payroll quarter (941)" in body
    assert "Copy to my templates" not in body  # staff read, managers edit


def test_a_manager_copies_a_starter_and_lands_in_the_editor(cast, login_as, manager):
    response = login_as(manager).post(f"{LIST}copy/", {"key": "monthly_close"})

    with tenant_context(cast.alpha):
        template = WorkflowTemplate.objects.get(starter_key="monthly_close")
    assert response.status_code == 302
    assert response.url == _editor(template)
    page = login_as(manager).get(response.url).content.decode()
    assert "Reconcile bank and card accounts" in page
    assert (
        "Waits for: Request missing receipts and statements, Categorise transactions"
        in page
    )


def test_copying_an_unknown_starter_says_so(cast, login_as, manager):
    response = login_as(manager).post(f"{LIST}copy/", {"key": "nope"}, follow=True)

    assert "Choose a template from the starter library." in response.content.decode()
    with tenant_context(cast.alpha):
        assert not WorkflowTemplate.objects.exists()


def test_staff_cannot_edit_templates(cast, login_as, template):
    client = login_as(cast.sam)

    assert client.post(f"{LIST}copy/", {"key": "1040"}).status_code == 403
    assert client.get(f"{LIST}new/").status_code == 403
    step = _steps(template)["Review"]
    move = f"/o/alpha/workflows/steps/{step.uuid}/move/"
    assert client.post(move, {"direction": "up"}).status_code == 403


def test_creating_a_template(cast, login_as, manager):
    response = login_as(manager).post(
        f"{LIST}new/",
        {"name": "Sales tax filing", "category": "compliance", "is_active": "on"},
    )

    with tenant_context(cast.alpha):
        template = WorkflowTemplate.objects.get()
    assert response.url == _editor(template)
    assert (template.name, template.category, template.created_by) == (
        "Sales tax filing",
        "compliance",
        manager,
    )


def test_a_template_without_a_name_shows_the_form_again(cast, login_as, manager):
    response = login_as(manager).post(f"{LIST}new/", {"name": "", "category": "tax"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]


def test_adding_a_step_with_what_it_waits_for(cast, login_as, manager, template):
    steps = _steps(template)

    response = login_as(manager).post(
        f"{_editor(template)}steps/new/",
        {
            "title": "File the return",
            "instructions": "E-file it",
            "checklist": "8879 signed\n\nAccepted\n",
            "assignee_rule": "role",
            "assignee_role": "staff",
            "due_offset_days": "-2",
            "due_from": "due",
            "budgeted_minutes": "15",
            "completes_on": "",
            "depends_on": [str(steps["Review"].uuid)],
        },
    )

    assert response.status_code == 302
    step = _steps(template)["File the return"]
    assert (step.position, step.assignee_role, step.due_offset_days) == (3, "staff", -2)
    assert step.checklist == ["8879 signed", "Accepted"]
    with tenant_context(cast.alpha):
        assert StepDependency.objects.get(step=step).depends_on == steps["Review"]
    assert fresh(template).version == 2


def test_a_step_for_a_named_person_needs_the_person(cast, login_as, manager, template):
    response = login_as(manager).post(
        f"{_editor(template)}steps/new/",
        {
            "title": "Sign",
            "assignee_rule": "person",
            "due_offset_days": "0",
            "due_from": "start",
            "budgeted_minutes": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["assignee_user"] == ["Choose the person."]


def test_editing_a_step_into_a_circle_shows_the_steps_of_the_circle(
    cast, login_as, manager, template
):
    steps = _steps(template)

    response = login_as(manager).post(
        f"/o/alpha/workflows/steps/{steps['Gather'].uuid}/edit/",
        {
            "title": "Gather",
            "assignee_rule": "unassigned",
            "due_offset_days": "0",
            "due_from": "start",
            "budgeted_minutes": "0",
            "depends_on": [str(steps["Review"].uuid)],
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["depends_on"] == [
        "These steps depend on each other in a circle: "
        "Gather → Review → Prepare → Gather. Remove one of the links."
    ]


def test_the_dependency_checkboxes_refuse_a_circle_in_the_editor(
    cast, login_as, manager, template
):
    steps = _steps(template)
    url = f"/o/alpha/workflows/steps/{steps['Prepare'].uuid}/dependencies/"

    response = login_as(manager).post(
        url, {"depends_on": [str(steps["Review"].uuid)]}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "These steps depend on each other in a circle: Prepare → Review → Prepare"
        in body
    )
    assert "<html" not in body  # only the steps list
    with tenant_context(cast.alpha):
        assert (
            StepDependency.objects.get(step=steps["Prepare"]).depends_on
            == steps["Gather"]
        )


def test_the_dependency_checkboxes_save_parallel_branches(
    cast, login_as, manager, template
):
    steps = _steps(template)
    url = f"/o/alpha/workflows/steps/{steps['Review'].uuid}/dependencies/"

    response = login_as(manager).post(
        url, {"depends_on": [str(steps["Gather"].uuid), str(steps["Prepare"].uuid)]}
    )

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        assert set(
            StepDependency.objects.filter(step=steps["Review"]).values_list(
                "depends_on__title", flat=True
            )
        ) == {"Gather", "Prepare"}


def test_moving_a_step_with_htmx_answers_the_steps_in_their_new_order(
    cast, login_as, manager, template
):
    step = _steps(template)["Review"]

    response = login_as(manager).post(
        f"/o/alpha/workflows/steps/{step.uuid}/move/",
        {"direction": "up"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert _order(template) == ["Gather", "Review", "Prepare"]
    body = response.content.decode()
    assert body.index("Review") < body.index("Prepare")


def test_moving_the_first_step_up_says_it_is_first(cast, login_as, manager, template):
    step = _steps(template)["Gather"]

    response = login_as(manager).post(
        f"/o/alpha/workflows/steps/{step.uuid}/move/", {"direction": "up"}, follow=True
    )

    assert "“Gather” is already the first step." in response.content.decode()


def test_removing_a_step(cast, login_as, manager, template):
    step = _steps(template)["Prepare"]

    response = login_as(manager).post(f"/o/alpha/workflows/steps/{step.uuid}/remove/")

    assert response.status_code == 302
    assert _order(template) == ["Gather", "Review"]


def test_another_firms_template_is_not_found(cast, login_as, make_template):
    theirs = make_template(cast.beta, "Beta 1040", [("Only", {})])
    step = _steps(theirs)["Only"]
    client = login_as(cast.alice)

    assert client.get(_editor(theirs)).status_code == 404
    assert (
        client.post(f"/o/alpha/workflows/steps/{step.uuid}/remove/").status_code == 404
    )
    assert _order(theirs) == ["Only"]


def test_the_editor_page_costs_the_same_queries_for_3_or_30_steps(
    cast, login_as, make_template, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(LIST)  # the first request also writes the session
    for n in (3, 30):
        template = make_template(
            cast.alpha,
            f"T{n}",
            [
                (f"Step {i}", {"after": [f"Step {i - 1}"]} if i else {})
                for i in range(n)
            ],
        )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the template, 6 how many workflows
        # it started, 7 its steps with named people, 8 their dependency links, 9 reset
        # the RLS context.
        with django_assert_num_queries(9):
            response = client.get(_editor(template))
        assert response.status_code == 200
    assert len(response.context["steps"]) == 30
