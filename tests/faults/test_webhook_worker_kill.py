"""`kill -9` of the django-q2 worker in the middle of a Stripe event's job: the
job is handed out again and the payment is recorded exactly once.

The job is killed while it waits for Stripe (the stand-in holds its answer to
the Checkout session's re-read), holding the event's row lock inside its
transaction: PostgreSQL rolls the try back and frees the lock, the broker hands
the task out again once its lock passes, and the second try records the one
payment and marks the event processed.
"""

from __future__ import annotations

import pytest
from django_q.models import OrmQ
from django_q.tasks import async_task

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.tasks import ADAPTER
from billing.models import Invoice, InvoiceStatus, PaymentStatus
from integrations.stripe.models import StripeEvent
from integrations.stripe.tasks import PROCESS
from tests.factories import make_issued_invoice
from tests.faults.workers import kill_worker_when, qcluster, wait_for
from tests.integrations.stripe.builders import connect, start
from tests.portal.builders import make_contact

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RETRY_SECONDS = "8"


def test_a_webhook_job_killed_mid_way_records_the_payment_once(
    cast, jane, stripe_standin, tmp_path
):
    firm = connect(cast.alpha, cast.alice, stripe_standin, lambda url: None, name="A")
    invoice = make_issued_invoice(jane, cast.alice)
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    session = start(invoice, joan)
    completed = stripe_standin.complete_checkout(session.session_id, "card")[-1]
    # What the webhook records; its job goes through the real queue (the suite
    # runs jobs in-process otherwise).
    with tenant_context(cast.alpha):
        event = StripeEvent.objects.create(
            organization=cast.alpha,
            event_id=completed["id"],
            type=completed["type"],
            payload=completed,
        )
    async_task(ADAPTER, PROCESS, cast.alpha.pk, {"event_id": event.pk}, sync=False)
    reread = f"/v1/checkout/sessions/{session.session_id}"
    # The first re-read is answered only after the worker is dead.
    stripe_standin.fail_next(reread, method="GET", status=None, delay=20)

    def event_state() -> StripeEvent:
        with tenant_context(cast.alpha):
            return StripeEvent.objects.get(pk=event.pk)

    with qcluster(
        tmp_path,
        Q_TIMEOUT="60",
        Q_RETRY=RETRY_SECONDS,
        STRIPE_API_BASE=stripe_standin.url,
        STRIPE_MAX_NETWORK_RETRIES="0",
        STRIPE_TIMEOUT_SECONDS="30",
    ) as cluster:
        killed = kill_worker_when(
            cluster,
            lambda: bool(stripe_standin.requests_to(reread, "GET")),
            "the job waiting for Stripe's answer",
        )
        assert not killed.is_running()
        # Rolled back: nothing recorded, the event still queued.
        with tenant_context(cast.alpha):
            assert not Invoice.objects.get(pk=invoice.pk).payments.exists()
        assert event_state().status == StripeEvent.Status.QUEUED
        wait_for(
            lambda: event_state().status == StripeEvent.Status.PROCESSED,
            cluster,
            "the event processed after the kill",
        )
        wait_for(lambda: not OrmQ.objects.exists(), cluster, "the queue emptied")
        log = cluster.log_tail()

    assert "after death" in log  # the sentinel replaced the killed worker
    assert event_state().attempts == 1  # the killed try left no trace
    with tenant_context(cast.alpha):
        paid = Invoice.objects.get(pk=invoice.pk)
        (payment,) = paid.payments.all()
    assert paid.status == InvoiceStatus.PAID
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (
        payment.stripe_payment_intent
        == firm.remote.objects[session.session_id]["payment_intent"]
    )
    assert len(stripe_standin.requests_to(reread, "GET")) == 2
