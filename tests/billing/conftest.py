"""Fixtures of the billing tests.

Alpha's billing clients for the money reports' tests: Acme Widgets (Alice its
partner, Sam on its staff: Sam's client where the firm limits staff to their own),
Birch Bakery (Adam its partner) and Cedar Trust (no partner). `today` is Alpha's
own date; the tests date everything from it. For the invoice pages: a file store
of the test's own (the invoices' PDFs land there), and a draft and an issued
invoice of Jane's. For the time pages: Acme's bookkeeping engagement (`books`),
a task of its workflow (`reconcile`), and `record` to record time through the
service.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.services.time import time_entry_create
from clients.models import Client, Engagement, EngagementType
from clients.services.engagements import engagement_create
from tests.factories import make_client, make_draft_invoice, make_issued_invoice
from workflows.models import Task, WorkflowExecution


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every billing test stores its files (invoice PDFs) in a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def draft(cast, jane):
    """Jane's draft: one fixed-fee line, a tax return at 500.00."""
    return make_draft_invoice(jane, cast.sam)


@pytest.fixture
def issued(cast, jane):
    """Jane's INV-00001 for 500.00, issued and owed in full."""
    return make_issued_invoice(jane, cast.sam)


@pytest.fixture
def today(cast) -> date:
    return firm_today(cast.alpha)


@pytest.fixture
def acme(cast) -> Client:
    return make_client(cast.alpha, "Acme Widgets", partner=cast.alice, staff=cast.sam)


@pytest.fixture
def birch(cast) -> Client:
    return make_client(cast.alpha, "Birch Bakery", partner=cast.adam)


@pytest.fixture
def cedar(cast) -> Client:
    return make_client(cast.alpha, "Cedar Trust")


@pytest.fixture
def make_engagement():
    def make(client: Client, name: str, engagement_type: str, **data) -> Engagement:
        """Hourly at 150 unless told (a fixed fee: fee_model="fixed", fee_amount=)."""
        data.setdefault("fee_model", "hourly")
        if data["fee_model"] == "hourly":
            data.setdefault("hourly_rate", "150")
        with tenant_context(client.organization):
            return engagement_create(
                client=client,
                data={"name": name, "engagement_type": engagement_type, **data},
            )

    return make


@pytest.fixture
def assigned_only(cast):
    """Alpha shows staff and read-only members their assigned clients only."""

    def switch_on() -> None:
        with platform_bypass():
            Organization.objects.filter(pk=cast.alpha.pk).update(
                assigned_clients_only=True
            )

    return switch_on


# Time ------------------------------------------------------------------------------


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
