"""Fixtures for the time tests: a client of Alpha with an engagement and a
workflow task, and builders for time entries and rates through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from billing.services.time import time_entry_create
from clients.models import Client, Engagement, EngagementType
from tests.factories import make_client
from workflows.models import Task, WorkflowExecution


@pytest.fixture
def acme(cast) -> Client:
    """Acme Widgets, Alpha's client: Alice its partner, Sam on its staff."""
    return make_client(cast.alpha, "Acme Widgets", partner=cast.alice, staff=cast.sam)


@pytest.fixture
def books(acme) -> Engagement:
    """Acme's bookkeeping engagement: 10 budgeted hours, no hourly rate of its own."""
    with tenant_context(acme.organization):
        return Engagement.objects.create(
            organization=acme.organization,
            client=acme,
            name="2026 bookkeeping",
            engagement_type=EngagementType.BOOKKEEPING,
            budgeted_hours=Decimal("10"),
        )


@pytest.fixture
def reconcile(books) -> Task:
    """A task of a workflow for the bookkeeping engagement: 2 budgeted hours."""
    with tenant_context(books.organization):
        execution = WorkflowExecution.objects.create(
            organization=books.organization,
            client=books.client,
            engagement=books,
            name="March close",
            start_date=timezone.localdate(),
        )
        return Task.objects.create(
            organization=books.organization,
            execution=execution,
            client=books.client,
            step_index=0,
            title="Reconcile the bank",
            status="ready",
            budgeted_minutes=120,
        )


@pytest.fixture
def record():
    """record(user, client, minutes, on=date, **kw) -> TimeEntry, through
    `time_entry_create` in the client's firm (today unless `on`)."""

    def _record(user, client, minutes: int, on: dt.date | None = None, **kw):
        with tenant_context(client.organization):
            return time_entry_create(
                organization=client.organization,
                user=user,
                client=client,
                date=on or timezone.localdate(),
                minutes=minutes,
                **kw,
            )

    return _record
