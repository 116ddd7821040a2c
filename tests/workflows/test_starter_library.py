"""The starter library: every entry copies into a firm's own template and runs."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import platform_bypass, tenant_context
from tests.workflows.conftest import tasks_of
from workflows.models import (
    StepDependency,
    StepTemplate,
    TaskStatus,
    WorkflowTemplate,
)
from workflows.starter_library import STARTERS, starter_copy

pytestmark = pytest.mark.django_db

EXPECTED = {
    "1040",
    "1120s",
    "1120",
    "1065",
    "monthly_close",
    "quarterly_estimates",
    "941",
    "onboarding",
    "year_end",
}


def test_the_library_holds_the_nine_templates_firms_ask_for():
    assert set(STARTERS) == EXPECTED


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_starter_is_a_workflow_with_branches_reviews_and_automation(key):
    starter = STARTERS[key]
    titles = [s.title for s in starter.steps]

    assert len(titles) == len(set(titles)), "step titles are unique"
    assert all(a in titles for s in starter.steps for a in s.after)
    assert any(s.approval for s in starter.steps), "a review step needs approval"
    assert all(s.minutes > 0 for s in starter.steps)
    # Not just a chain: two steps can run side by side somewhere.
    dependents = {}
    for s in starter.steps:
        for a in s.after:
            dependents.setdefault(a, []).append(s.title)
    roots = [s for s in starter.steps if not s.after]
    assert len(roots) > 1 or any(len(d) > 1 for d in dependents.values())
    if key != "941":
        assert any(s.completes_on for s in starter.steps)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_a_copy_runs_from_end_to_end(cast, key, make_wf_client, start):
    with tenant_context(cast.alpha):
        template = starter_copy(organization=cast.alpha, key=key, by=cast.alice)
    client = make_wf_client(
        cast.alpha, partner=cast.alice, manager=cast.adam, staff=cast.sam
    )
    execution = start(template, client, due_date=date(2027, 4, 15))
    tasks = tasks_of(execution)

    assert len(tasks) == len(STARTERS[key].steps)
    assert any(t.status == TaskStatus.READY for t in tasks.values())


def test_a_copy_is_the_firms_own_editable_template(cast):
    with tenant_context(cast.alpha):
        template = starter_copy(organization=cast.alpha, key="1040", by=cast.alice)
        steps = list(StepTemplate.objects.filter(template=template))
        links = StepDependency.objects.filter(step__template=template).count()

    assert template.starter_key == "1040"
    assert template.created_by == cast.alice
    assert template.name == "Individual income tax return (1040)"
    assert [s.position for s in steps] == list(range(len(steps)))
    assert links == sum(len(s.after) for s in STARTERS["1040"].steps)
    collect = next(s for s in steps if s.title == "Collect client documents")
    assert collect.completes_on == "request_fulfilled"
    assert collect.assignee_rule == "preparer"
    review = next(s for s in steps if s.title == "Review the return")
    assert review.needs_approval and review.due_from == "due"
    with platform_bypass():
        assert not WorkflowTemplate.objects.filter(organization=cast.beta).exists()


def test_an_unknown_starter_is_refused(cast):
    with (
        tenant_context(cast.alpha),
        pytest.raises(ValidationError, match="starter library"),
    ):
        starter_copy(organization=cast.alpha, key="nope", by=cast.alice)
