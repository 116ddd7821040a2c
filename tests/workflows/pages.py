"""Helpers for the tests of the workflow pages (My work, board, workload, client tab,
notifications): tasks written directly, so a test can set any state, and many at
once for the query-count tests (their workflows: tests/factories.py's
make_execution)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from workflows.models import Task


def today(organization) -> date:
    return firm_today(organization)


def days(n: int, organization=None) -> date:
    """A date n days from the firm's today (Alpha's, or `organization`'s)."""
    base = today(organization) if organization is not None else timezone.localdate()
    return base + timedelta(days=n)


def make_task(organization, title: str = "Prepare return", **fields) -> Task:
    """A task written directly (status "ready" unless told)."""
    fields.setdefault("status", "ready")
    if fields["status"] == "completed":
        fields.setdefault("completed_at", timezone.now())
    execution = fields.get("execution")
    if execution is not None:
        fields.setdefault("client", execution.client)
    with tenant_context(organization):
        return Task.objects.create(organization=organization, title=title, **fields)


def make_tasks(organization, n: int, prefix: str = "Task", **fields) -> list[Task]:
    """n tasks at once (one bulk insert), due one day apart from today on."""
    fields.setdefault("status", "ready")
    if fields["status"] == "completed":
        fields.setdefault("completed_at", timezone.now())
    start = today(organization)
    with tenant_context(organization):
        return Task.objects.bulk_create(
            Task(
                organization=organization,
                title=f"{prefix} {i:03d}",
                **{"due_date": start + timedelta(days=i), **fields},
            )
            for i in range(n)
        )
