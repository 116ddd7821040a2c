"""An invoice paid in full completes the workflow steps waiting for it
(CompletesOn.INVOICE_PAID): billing's `invoice_paid` signal, workflows' service."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.services.payments import payment_record
from clients.models import Engagement
from tests.factories import make_issued_invoice, make_template, start_workflow
from workflows.models import Task, TaskStatus
from workflows.services.automation import target_of
from workflows.starter_library import starter_copy

D = Decimal


def _engagement(client, name):
    with tenant_context(client.organization):
        return Engagement.objects.create(
            organization=client.organization,
            client=client,
            name=name,
            engagement_type="individual_tax",
        )


def _tasks(execution) -> dict[str, Task]:
    with tenant_context(Organization.objects.get(pk=execution.organization_id)):
        return {t.title: t for t in Task.objects.filter(execution=execution)}


def _pay(invoice, user, amount, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(Organization.objects.get(pk=invoice.organization_id)):
            payment_record(invoice=invoice, by=user, amount=D(amount), method="check")


@pytest.fixture
def billing_template(cast):
    return make_template(
        cast.alpha,
        "Bookkeeping",
        [
            ("Bill", {"completes_on": "invoice_paid"}),
            ("Close the month", {"after": ["Bill"]}),
        ],
    )


def test_paying_in_full_completes_the_engagements_waiting_step(
    cast, jane, billing_template, django_capture_on_commit_callbacks
):
    engagement = _engagement(jane, "2026 bookkeeping")
    other = _engagement(jane, "2026 return")
    mine = start_workflow(billing_template, jane, engagement=engagement)
    theirs = start_workflow(billing_template, jane, engagement=other)
    invoice = make_issued_invoice(jane, cast.sam, engagement=engagement)

    _pay(invoice, cast.sam, "200", django_capture_on_commit_callbacks)
    assert _tasks(mine)["Bill"].status == TaskStatus.READY  # partly paid: waiting

    _pay(invoice, cast.sam, "300", django_capture_on_commit_callbacks)
    assert _tasks(mine)["Bill"].status == TaskStatus.COMPLETED
    assert _tasks(mine)["Close the month"].status == TaskStatus.READY
    assert _tasks(theirs)["Bill"].status == TaskStatus.READY


def test_a_task_may_wait_for_one_invoice_by_name(
    cast, jane, billing_template, django_capture_on_commit_callbacks
):
    execution = start_workflow(billing_template, jane)
    invoice = make_issued_invoice(jane, cast.sam, engagement=_engagement(jane, "x"))
    bill = _tasks(execution)["Bill"]
    with tenant_context(cast.alpha):
        Task.objects.filter(pk=bill.pk).update(completes_on_target=target_of(invoice))

    _pay(invoice, cast.sam, "500", django_capture_on_commit_callbacks)

    assert _tasks(execution)["Bill"].status == TaskStatus.COMPLETED


def test_the_starter_librarys_billing_step_now_completes(
    cast, jane, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        template = starter_copy(organization=cast.alpha, key="1040", by=cast.alice)
    engagement = _engagement(jane, "2026 Form 1040")
    execution = start_workflow(template, jane, engagement=engagement)
    with tenant_context(cast.alpha):
        bill = Task.objects.get(execution=execution, completes_on="invoice_paid")
        # The steps before it are done by people; the invoice is what we test.
        Task.objects.filter(pk=bill.pk).update(status=TaskStatus.READY)
    invoice = make_issued_invoice(jane, cast.sam, engagement=engagement)

    _pay(invoice, cast.sam, "500", django_capture_on_commit_callbacks)

    with tenant_context(cast.alpha):
        bill.refresh_from_db()
        comment = bill.comments.last().body
    assert bill.status == TaskStatus.COMPLETED
    assert "was paid" in comment
