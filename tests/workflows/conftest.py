"""Fixtures for the workflows tests: clients, templates with steps, started workflows.

Templates are written directly (not through the template services) so a test can
set any shape; `start` runs the real engine. Other developers append their own
fixtures at the end of this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client, Engagement, EngagementType
from clients.services.search import fold
from workflows.models import (
    StepDependency,
    StepTemplate,
    Task,
    WorkflowExecution,
    WorkflowTemplate,
)

START = date(2027, 3, 1)


@pytest.fixture
def in_alpha(cast) -> Iterator:
    """Run the test inside Alpha's context (both walls), as a request would."""
    with tenant_context(cast.alpha):
        yield cast


@pytest.fixture
def make_wf_client():
    """make_wf_client(org, "Jane Doe", partner=user, ...) -> Client (written directly)."""

    def _make(organization, display_name: str = "Jane Doe", **fields) -> Client:
        code = "".join(ch for ch in fold(display_name).upper() if ch.isalnum())[:12]
        with tenant_context(organization):
            return Client.objects.create(
                organization=organization,
                display_name=display_name,
                sort_name=fold(display_name),
                client_code=fields.pop("client_code", code),
                **fields,
            )

    return _make


@pytest.fixture
def make_wf_engagement():
    def _make(client: Client, name: str = "2026 return", **fields) -> Engagement:
        fields.setdefault("engagement_type", EngagementType.INDIVIDUAL_TAX)
        with tenant_context(client.organization):
            return Engagement.objects.create(
                organization=client.organization, client=client, name=name, **fields
            )

    return _make


@pytest.fixture
def make_template():
    """make_template(org, "1040", [("Gather", {}), ("Prepare", {"after": ["Gather"]})])

    Each step is (title, fields); fields may hold "after": titles of the steps it
    depends on, and any StepTemplate field (assignee_rule, needs_approval, ...)."""

    def _make(organization, name: str = "Tax return", steps=(), **fields):
        with tenant_context(organization):
            template = WorkflowTemplate.objects.create(
                organization=organization,
                name=name,
                category=fields.pop("category", "tax"),
                **fields,
            )
            by_title = {}
            after = {}
            for position, (title, step_fields) in enumerate(steps):
                step_fields = dict(step_fields)
                after[title] = step_fields.pop("after", [])
                by_title[title] = StepTemplate.objects.create(
                    organization=organization,
                    template=template,
                    position=position,
                    title=title,
                    **step_fields,
                )
            StepDependency.objects.bulk_create(
                StepDependency(
                    organization=organization,
                    step=by_title[title],
                    depends_on=by_title[before],
                )
                for title, befores in after.items()
                for before in befores
            )
        return template

    return _make


@pytest.fixture
def start():
    """start(template, client, **kwargs) -> WorkflowExecution through the engine."""
    from workflows.services.executions import execution_start

    def _start(template, client, **kwargs) -> WorkflowExecution:
        kwargs.setdefault("start_date", START)
        with tenant_context(template.organization):
            return execution_start(template=template, client=client, **kwargs)

    return _start


def tasks_of(execution: WorkflowExecution) -> dict[str, Task]:
    """The workflow's tasks by title, fresh from the database."""
    with tenant_context(execution.organization):
        return {
            t.title: t
            for t in Task.objects.filter(execution=execution).select_related(
                "execution"
            )
        }


def fresh(obj):
    """Reload a tenant row in its firm's context."""
    with tenant_context(obj.organization):
        return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def make_member():
    """make_member(org, "Mia Manager", Role.MANAGER) -> User, an active member."""
    from advisoros.tenancy.db import platform_bypass
    from advisoros.tenancy.models import Membership
    from tests.conftest import make_user

    def _make(organization, name: str, role, *, is_active: bool = True):
        email = name.lower().replace(" ", ".") + f"@{organization.slug}.test"
        with platform_bypass():
            user = make_user(email, name)
            Membership.objects.create(
                organization=organization, user=user, role=role, is_active=is_active
            )
        return user

    return _make


def move(task: Task, to_status: str, by, comment: str = "") -> Task:
    """task_transition in the task's firm."""
    from workflows.services.tasks import task_transition

    with tenant_context(task.organization):
        return task_transition(task=task, to_status=to_status, by=by, comment=comment)
