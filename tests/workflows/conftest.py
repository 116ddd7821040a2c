"""Fixtures for the workflows tests: clients, templates with steps, started workflows.

The fixtures hand out the builders of tests/factories.py: templates written
directly (not through the template services) so a test can set any shape, and
`start`, the real engine. Other developers append their own fixtures at the end
of this file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client, Engagement, EngagementType
from clients.services.search import fold
from tests import factories
from workflows.models import Task, WorkflowExecution


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
    (tests/factories.py)."""
    return factories.make_template


@pytest.fixture
def start():
    """start(template, client, **kwargs) -> WorkflowExecution through the engine."""
    return factories.start_workflow


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
    """make_member(org, "Stan Staff", Role.STAFF) -> User, an active member."""
    return factories.make_member


def move(task: Task, to_status: str, by, comment: str = "") -> Task:
    """task_transition in the task's firm."""
    from workflows.services.tasks import task_transition

    with tenant_context(task.organization):
        return task_transition(task=task, to_status=to_status, by=by, comment=comment)
