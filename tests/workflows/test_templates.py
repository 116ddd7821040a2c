"""Template services: versions, steps, reordering, dependencies and their circles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from tests.workflows.conftest import fresh
from workflows.models import StepDependency, StepTemplate, WorkflowTemplate
from workflows.services import templates as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(cast, make_template):
    return make_template(
        cast.alpha,
        "1040",
        [
            ("Gather", {}),
            ("Prepare", {"after": ["Gather"]}),
            ("Review", {"after": ["Prepare"]}),
        ],
    )


def _steps(template):
    with tenant_context(template.organization):
        return {
            s.title: s
            for s in StepTemplate.objects.filter(template=template).select_related(
                "template"
            )
        }


def _order(template):
    with tenant_context(template.organization):
        return list(
            StepTemplate.objects.filter(template=template)
            .order_by("position")
            .values_list("title", flat=True)
        )


def _waits_for(step):
    with tenant_context(step.organization):
        return set(
            StepDependency.objects.filter(step=step).values_list(
                "depends_on__title", flat=True
            )
        )


def test_a_new_template_starts_at_version_one(cast):
    with tenant_context(cast.alpha):
        template = services.template_create(
            organization=cast.alpha,
            data={"name": "  Payroll  ", "category": "payroll"},
            by=cast.alice,
        )

    assert (template.name, template.version, template.created_by) == (
        "Payroll",
        1,
        cast.alice,
    )


def test_a_template_needs_a_name(cast):
    with tenant_context(cast.alpha), pytest.raises(ValidationError) as error:
        services.template_create(
            organization=cast.alpha, data={"name": " ", "category": "tax"}, by=None
        )

    assert "name" in error.value.message_dict
    with tenant_context(cast.alpha):
        assert not WorkflowTemplate.objects.exists()


def test_every_edit_bumps_the_version(cast, template):
    steps = _steps(template)
    with tenant_context(cast.alpha):
        services.template_update(
            template=template, data={"description": "Yearly"}, by=cast.alice
        )
        services.step_update(
            step=steps["Gather"], data={"budgeted_minutes": 45}, by=cast.alice
        )
        services.step_move(step=steps["Review"], direction="up", by=cast.alice)

    assert fresh(template).version == 4


def test_a_step_is_added_at_the_end_with_its_dependencies(cast, template):
    steps = _steps(template)
    with tenant_context(cast.alpha):
        step = services.step_add(
            template=template,
            data={
                "title": "File",
                "checklist": ["8879 signed", "  ", "Accepted"],
                "assignee_rule": "preparer",
                "due_offset_days": -2,
                "due_from": "due",
            },
            depends_on=[steps["Review"]],
            by=cast.alice,
        )

    assert step.position == 3
    assert step.checklist == ["8879 signed", "Accepted"]
    assert _waits_for(step) == {"Review"}
    assert fresh(template).version == 2


def test_a_role_step_needs_a_role_and_a_person_step_a_member(cast, template):
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError) as no_role:
            services.step_add(
                template=template,
                data={"title": "X", "assignee_rule": "role", "assignee_role": ""},
                by=None,
            )
        with pytest.raises(ValidationError) as outsider:
            services.step_add(
                template=template,
                data={
                    "title": "Y",
                    "assignee_rule": "person",
                    "assignee_user": cast.oscar,
                },
                by=None,
            )

    assert list(no_role.value.message_dict) == ["assignee_role"]
    assert outsider.value.message_dict == {
        "assignee_user": ["Choose an active member who can do tasks."]
    }
    assert set(_steps(template)) == {"Gather", "Prepare", "Review"}


def test_a_step_that_closes_a_circle_is_refused_with_the_steps_named(cast, template):
    steps = _steps(template)

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as error:
        services.step_set_dependencies(
            step=steps["Gather"], depends_on=[steps["Review"]], by=cast.alice
        )

    assert error.value.messages == [
        "These steps depend on each other in a circle: "
        "Gather → Review → Prepare → Gather. Remove one of the links."
    ]
    assert _waits_for(steps["Gather"]) == set()
    assert fresh(template).version == 1


def test_a_two_step_circle_is_named_too(cast, template):
    steps = _steps(template)

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as error:
        services.step_set_dependencies(
            step=steps["Prepare"], depends_on=[steps["Review"]], by=cast.alice
        )

    assert "Prepare → Review → Prepare" in error.value.messages[0]


def test_a_step_cannot_wait_for_itself_or_another_templates_step(
    cast, template, make_template
):
    steps = _steps(template)
    other = _steps(make_template(cast.alpha, "Other", [("Elsewhere", {})]))

    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="cannot wait for itself"):
            services.step_set_dependencies(
                step=steps["Gather"], depends_on=[steps["Gather"]], by=None
            )
        with pytest.raises(ValidationError, match="same template"):
            services.step_set_dependencies(
                step=steps["Gather"], depends_on=[other["Elsewhere"]], by=None
            )


def test_dependencies_are_replaced_not_added(cast, template):
    steps = _steps(template)

    with tenant_context(cast.alpha):
        services.step_set_dependencies(
            step=steps["Review"], depends_on=[steps["Gather"]], by=None
        )

    assert _waits_for(steps["Review"]) == {"Gather"}


def test_parallel_branches_are_not_a_circle(cast, template):
    steps = _steps(template)

    with tenant_context(cast.alpha):
        services.step_set_dependencies(
            step=steps["Review"],
            depends_on=[steps["Gather"], steps["Prepare"]],
            by=None,
        )

    assert _waits_for(steps["Review"]) == {"Gather", "Prepare"}


def test_moving_steps_up_and_down(cast, template):
    steps = _steps(template)
    with tenant_context(cast.alpha):
        services.step_move(step=steps["Review"], direction="up", by=None)
        assert _order(template) == ["Gather", "Review", "Prepare"]
        services.step_move(step=steps["Gather"], direction="down", by=None)

    assert _order(template) == ["Review", "Gather", "Prepare"]


def test_the_first_step_cannot_move_up(cast, template):
    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="already the first step"),
    ):
        services.step_move(step=_steps(template)["Gather"], direction="up", by=None)


def test_reordering_all_steps_at_once(cast, template):
    steps = _steps(template)
    order = [str(steps[t].uuid) for t in ("Review", "Gather", "Prepare")]

    with tenant_context(cast.alpha):
        services.steps_reorder(template=template, order=order, by=None)

    assert _order(template) == ["Review", "Gather", "Prepare"]


def test_a_reorder_missing_a_step_is_refused(cast, template):
    steps = _steps(template)

    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="every step of the template once"),
    ):
        services.steps_reorder(
            template=template, order=[str(steps["Gather"].uuid)], by=None
        )
    assert _order(template) == ["Gather", "Prepare", "Review"]


def test_removing_a_step_closes_the_gap_and_its_links(cast, template):
    steps = _steps(template)

    with tenant_context(cast.alpha):
        services.step_remove(step=steps["Prepare"], by=cast.alice)
        positions = list(
            StepTemplate.objects.filter(template=template)
            .order_by("position")
            .values_list("title", "position")
        )

    assert positions == [("Gather", 0), ("Review", 1)]
    assert _waits_for(steps["Review"]) == set()
