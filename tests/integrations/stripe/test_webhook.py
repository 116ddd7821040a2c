"""The Stripe webhook: signatures, duplicates, order, ACH, refusals, firms' walls.

Payments are made at the stand-in (its Checkout completes as Stripe's does) and
the events it signs are delivered to the firm's webhook address.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, InvoiceStatus, PaymentStatus
from integrations.stripe.models import CheckoutSession, StripeEvent
from tests.integrations.stripe.builders import fresh, payments_of, start


def pay(firm, invoice, joan, method: str = "card"):
    """Joan pays `invoice` at Stripe; the events are returned, not yet sent."""
    session = start(invoice, joan)
    return session, firm.standin.complete_checkout(session.session_id, method)


def deliver(firm, events, **options) -> list[int]:
    return [
        d.status for d in firm.standin.deliver(events, account=firm.remote, **options)
    ]


# Signatures --------------------------------------------------------------------------


def test_a_card_payment_marks_the_invoice_paid(alpha_stripe, invoice, joan):
    _, events = pay(alpha_stripe, invoice, joan)

    assert set(deliver(alpha_stripe, events)) == {200}

    invoice = fresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_paid == Decimal("500.00")
    (payment,) = payments_of(invoice)
    assert (payment.status, payment.method) == (PaymentStatus.SUCCEEDED, "card")
    assert payment.stripe_payment_intent.startswith("pi_")
    assert payment.stripe_checkout_session.startswith("cs_test_")
    statuses = {e.type: e.status for e in alpha_stripe.events()}
    assert statuses["checkout.session.completed"] == StripeEvent.Status.PROCESSED
    assert statuses["charge.succeeded"] == StripeEvent.Status.IGNORED


def test_a_forged_signature_is_refused_and_nothing_is_recorded(
    alpha_stripe, invoice, joan
):
    _, events = pay(alpha_stripe, invoice, joan)

    assert set(deliver(alpha_stripe, events, wrong_secret=True)) == {400}

    assert alpha_stripe.events() == []
    assert fresh(invoice).status == InvoiceStatus.SENT


def test_a_stale_timestamp_is_refused(alpha_stripe, invoice, joan):
    _, events = pay(alpha_stripe, invoice, joan)

    assert set(deliver(alpha_stripe, events, stale=True)) == {400}

    assert alpha_stripe.events() == []
    assert payments_of(invoice) == []


def test_a_body_changed_after_signing_is_refused(alpha_stripe, invoice, joan, client):
    _, events = pay(alpha_stripe, invoice, joan)
    body, header = alpha_stripe.standin.sign(
        events[-1], alpha_stripe.remote.webhook_secret
    )
    tampered = body.replace(b'"payment_status": "paid"', b'"payment_status": "paid" ')

    response = client.post(
        alpha_stripe.url,
        tampered,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    missing = client.post(alpha_stripe.url, body, content_type="application/json")

    assert (response.status_code, missing.status_code) == (400, 400)
    assert alpha_stripe.events() == []


def test_an_unknown_webhook_address_is_not_found(alpha_stripe, invoice, joan, client):
    _, events = pay(alpha_stripe, invoice, joan)
    body, header = alpha_stripe.standin.sign(
        events[-1], alpha_stripe.remote.webhook_secret
    )

    response = client.post(
        f"/webhooks/stripe/{uuid.uuid4()}/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )

    assert response.status_code == 404
    assert client.get(alpha_stripe.url).status_code == 405
    assert alpha_stripe.events() == []


# Duplicates and order ------------------------------------------------------------------


def test_a_duplicate_event_is_answered_and_changes_nothing(alpha_stripe, invoice, joan):
    _, events = pay(alpha_stripe, invoice, joan)

    statuses = deliver(alpha_stripe, events, times=3)

    assert set(statuses) == {200}
    completed = [e for e in alpha_stripe.events() if e.type.startswith("checkout.")]
    assert len(completed) == 1
    assert len(payments_of(invoice)) == 1
    assert fresh(invoice).amount_paid == Decimal("500.00")


def test_a_bank_debit_is_pending_then_paid(alpha_stripe, invoice, joan):
    session, events = pay(alpha_stripe, invoice, joan, "us_bank_account")
    deliver(alpha_stripe, events)

    (payment,) = payments_of(invoice)
    assert (payment.status, payment.method) == (
        PaymentStatus.PENDING,
        "us_bank_account",
    )
    owed = fresh(invoice)
    assert owed.status == InvoiceStatus.SENT
    assert owed.amount_paid == Decimal("0.00")

    deliver(
        alpha_stripe, alpha_stripe.standin.settle(session.session_id, succeeded=True)
    )

    (payment,) = payments_of(invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    paid = fresh(invoice)
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, Decimal("500.00"))


def test_a_failed_bank_debit_leaves_the_invoice_owed(alpha_stripe, invoice, joan):
    session, events = pay(alpha_stripe, invoice, joan, "us_bank_account")
    deliver(alpha_stripe, events)

    deliver(
        alpha_stripe, alpha_stripe.standin.settle(session.session_id, succeeded=False)
    )

    (payment,) = payments_of(invoice)
    assert payment.status == PaymentStatus.FAILED
    assert "could not be debited" in payment.failure_message
    owed = fresh(invoice)
    assert (owed.status, owed.balance) == (InvoiceStatus.SENT, Decimal("500.00"))
    processed = {e.type: e.status for e in alpha_stripe.events()}
    assert (
        processed["checkout.session.async_payment_failed"]
        == StripeEvent.Status.PROCESSED
    )


def test_events_out_of_order_give_the_same_result(alpha_stripe, invoice, joan):
    """async_payment_succeeded arrives before completed: each re-reads the
    session from Stripe, so the first records the cleared payment and the
    second finds nothing new."""
    session, completed = pay(alpha_stripe, invoice, joan, "us_bank_account")
    cleared = alpha_stripe.standin.settle(session.session_id, succeeded=True)

    deliver(alpha_stripe, [*completed, *cleared], reverse=True)

    (payment,) = payments_of(invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert fresh(invoice).amount_paid == Decimal("500.00")
    types = [e.type for e in alpha_stripe.events()]
    assert types.index("checkout.session.async_payment_succeeded") < types.index(
        "checkout.session.completed"
    )
    assert {
        e.status for e in alpha_stripe.events() if e.type.startswith("checkout")
    } == {StripeEvent.Status.PROCESSED}


def test_an_unknown_event_type_is_marked_ignored(alpha_stripe):
    event = alpha_stripe.standin.event(
        alpha_stripe.remote, "customer.created", {"id": "cus_1", "object": "customer"}
    )

    assert deliver(alpha_stripe, [event]) == [200]

    (recorded,) = alpha_stripe.events()
    assert recorded.status == StripeEvent.Status.IGNORED
    assert recorded.attempts == 1


def test_an_expired_session_is_marked_expired(alpha_stripe, invoice, joan):
    session = start(invoice, joan)

    deliver(alpha_stripe, alpha_stripe.standin.expire_checkout(session.session_id))

    with tenant_context(alpha_stripe.organization):
        session.refresh_from_db()
    assert session.status == CheckoutSession.Status.EXPIRED


# Refusals --------------------------------------------------------------------------------


def _session_at_stripe(firm, *, amount: int, metadata: dict) -> str:
    """A Checkout session made in the firm's Stripe account by someone else."""
    from integrations.stripe.client import stripe_client

    created = stripe_client(firm.account).v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "http://elsewhere.test/",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount,
                        "product_data": {"name": "Something"},
                    },
                    "quantity": 1,
                }
            ],
            "metadata": metadata,
        }
    )
    return created.id


def _refusal(firm) -> str:
    (completed,) = [e for e in firm.events() if e.type == "checkout.session.completed"]
    assert completed.status == StripeEvent.Status.FAILED
    return completed.error


def test_an_event_for_an_unknown_invoice_is_refused(alpha_stripe, cast, invoice):
    session_id = _session_at_stripe(
        alpha_stripe,
        amount=50000,
        metadata={"invoice": str(uuid.uuid4()), "organization": str(cast.alpha.pk)},
    )

    deliver(alpha_stripe, alpha_stripe.standin.complete_checkout(session_id))

    assert "names an invoice this firm does not have" in _refusal(alpha_stripe)
    assert payments_of(invoice) == []


def test_a_session_not_opened_here_is_refused(alpha_stripe, cast, invoice):
    session_id = _session_at_stripe(
        alpha_stripe,
        amount=50000,
        metadata={"invoice": str(invoice.uuid), "organization": str(cast.alpha.pk)},
    )

    deliver(alpha_stripe, alpha_stripe.standin.complete_checkout(session_id))

    assert "was not opened by AdvisorOS" in _refusal(alpha_stripe)
    assert payments_of(invoice) == []


def test_an_amount_that_does_not_match_is_refused(alpha_stripe, invoice, joan):
    session, events = pay(alpha_stripe, invoice, joan)
    with tenant_context(alpha_stripe.organization):
        CheckoutSession.objects.filter(pk=session.pk).update(amount=Decimal("400.00"))

    deliver(alpha_stripe, events)

    assert "we opened it for 400.00 USD" in _refusal(alpha_stripe)
    assert payments_of(invoice) == []
    assert fresh(invoice).status == InvoiceStatus.SENT


def test_a_currency_that_does_not_match_is_refused(alpha_stripe, invoice, joan):
    _, events = pay(alpha_stripe, invoice, joan)
    with tenant_context(alpha_stripe.organization):
        Invoice.objects.filter(pk=invoice.pk).update(currency="EUR")

    deliver(alpha_stripe, events)

    assert "is in USD" in _refusal(alpha_stripe)
    assert payments_of(invoice) == []


def test_an_overpayment_is_recorded_and_shown_for_refund(
    alpha_stripe, cast, invoice, joan
):
    """Two sessions paid: the first before the amount changed, the second after
    (its expiry came too late). Both payments stand; the invoice is paid with
    the surplus to refund."""
    from billing.services.payments import payment_record

    first, first_events = pay(alpha_stripe, invoice, joan)
    with tenant_context(cast.alpha):
        payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("100"), method="check"
        )
    second, second_events = pay(alpha_stripe, invoice, joan)
    assert (second.attempt, second.amount) == (2, Decimal("400.00"))

    deliver(alpha_stripe, [*first_events, *second_events])

    paid = fresh(invoice)
    assert paid.status == InvoiceStatus.PAID
    assert paid.amount_paid == Decimal("1000.00")
    assert len(payments_of(invoice)) == 3


def test_firm_as_webhook_cannot_touch_firm_bs_invoice(
    alpha_stripe, beta_stripe, cast, invoice, beta_invoice, bruno, client
):
    # A session in Alpha's Stripe whose metadata names Beta's invoice.
    session_id = _session_at_stripe(
        alpha_stripe,
        amount=30000,
        metadata={"invoice": str(beta_invoice.uuid), "organization": str(cast.beta.pk)},
    )
    deliver(alpha_stripe, alpha_stripe.standin.complete_checkout(session_id))
    assert "was not opened by this firm" in _refusal(alpha_stripe)

    # Beta's own paid session, its event signed with Alpha's secret (a forger
    # who knows Alpha's secret) and sent to Alpha's address: read in Alpha's
    # Stripe account, where it does not exist.
    beta_session = start(beta_invoice, None or _beta_contact(bruno))
    beta_events = beta_stripe.standin.complete_checkout(beta_session.session_id)
    deliver(
        alpha_stripe,
        beta_events,
        to=alpha_stripe.remote.webhook_target,
        secret=alpha_stripe.remote.webhook_secret,
    )
    alpha_events = [
        e for e in alpha_stripe.events() if e.event_id == beta_events[-1]["id"]
    ]
    assert alpha_events[0].status == StripeEvent.Status.FAILED
    assert "not in this firm's Stripe account" in alpha_events[0].error

    # Beta's event signed by Beta, sent to Alpha's address: a bad signature.
    assert set(
        deliver(beta_stripe, beta_events, to=alpha_stripe.remote.webhook_target)
    ) == {400}

    assert payments_of(beta_invoice) == []
    assert fresh(beta_invoice).status == InvoiceStatus.SENT
    assert payments_of(invoice) == []


def _beta_contact(bruno):
    from tests.portal.builders import make_contact

    return make_contact(bruno, "Bruno", "Beta", "bruno@beta-client.test")


# Refunds in Stripe's dashboard -------------------------------------------------------------


def test_a_refund_made_in_stripe_is_recorded_once(alpha_stripe, invoice, joan):
    _, events = pay(alpha_stripe, invoice, joan)
    deliver(alpha_stripe, events)
    (payment,) = payments_of(invoice)

    refund, refund_events = alpha_stripe.standin.refund_from_dashboard(
        payment.stripe_payment_intent, 12000
    )
    deliver(alpha_stripe, refund_events, times=2)

    with tenant_context(alpha_stripe.organization):
        payment.refresh_from_db()
        (recorded,) = payment.refunds.all()
    assert (recorded.stripe_refund, recorded.amount) == (
        refund["id"],
        Decimal("120.00"),
    )
    assert payment.amount_refunded == Decimal("120.00")
    owed = fresh(invoice)
    assert (owed.status, owed.amount_paid) == (InvoiceStatus.PARTIAL, Decimal("380.00"))


def test_a_pending_refund_that_fails_is_undone_once(alpha_stripe, invoice, joan):
    """A refund still on its way counts at once; when the bank sends it back,
    the payment and the invoice are as they were before it, once."""
    from billing.models import RefundStatus

    _, events = pay(alpha_stripe, invoice, joan)
    deliver(alpha_stripe, events)
    (payment,) = payments_of(invoice)
    refund, refund_events = alpha_stripe.standin.refund_from_dashboard(
        payment.stripe_payment_intent, 20000, pending=True
    )
    deliver(alpha_stripe, refund_events)
    with tenant_context(alpha_stripe.organization):
        (recorded,) = payment.refunds.all()
    assert recorded.status == RefundStatus.PENDING
    assert fresh(invoice).amount_paid == Decimal("300.00")

    failed = alpha_stripe.standin.refund_fail(refund["id"])
    deliver(alpha_stripe, failed, times=2)

    with tenant_context(alpha_stripe.organization):
        payment.refresh_from_db()
        recorded.refresh_from_db()
    assert recorded.status == RefundStatus.FAILED
    assert payment.amount_refunded == Decimal("0.00")
    owed = fresh(invoice)
    assert (owed.status, owed.amount_paid) == (InvoiceStatus.PAID, Decimal("500.00"))


def test_events_after_a_disconnect_are_not_found(alpha_stripe, cast, invoice, joan):
    from integrations.stripe.services import stripe_account_disconnect

    _, events = pay(alpha_stripe, invoice, joan)
    with tenant_context(cast.alpha):
        stripe_account_disconnect(account=alpha_stripe.account, by=cast.alice)

    assert set(deliver(alpha_stripe, events)) == {404}


def test_an_event_whose_job_was_lost_is_queued_again_later(
    alpha_stripe, invoice, joan, django_capture_on_commit_callbacks
):
    """The process died between the event's commit and its job's queueing: the
    half-hourly sweep finds the event still queued after an hour and runs it."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.stripe.tasks import stripe_events_requeue

    _, events = pay(alpha_stripe, invoice, joan)
    completed = events[-1]
    with tenant_context(alpha_stripe.organization):
        StripeEvent.objects.create(
            organization=alpha_stripe.organization,
            event_id=completed["id"],
            type=completed["type"],
            payload=completed,
        )

    def sweep() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return stripe_events_requeue()  # firms queued; their jobs run

    assert sweep() == 0  # too recent: its own job may still come
    with tenant_context(alpha_stripe.organization):
        StripeEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))

    assert sweep() == 1

    assert fresh(invoice).status == InvoiceStatus.PAID
    (event,) = alpha_stripe.events()
    assert event.status == StripeEvent.Status.PROCESSED
    assert sweep() == 0


# The signing secret learnt, and the event's job in its transaction ---------------------


def test_a_secret_pasted_anew_counts_at_once(alpha_stripe, cast, invoice, joan):
    """The intake keeps the secret it learnt; a signature it does not verify sends
    it back to the saved one before refusing."""
    from integrations.stripe.services import stripe_account_save

    _, events = pay(alpha_stripe, invoice, joan)
    assert deliver(alpha_stripe, events[:1]) == [200]  # the secret is learnt
    old = alpha_stripe.remote.webhook_secret
    alpha_stripe.remote.webhook_secret = "whsec_" + "b" * 32
    with tenant_context(cast.alpha):
        stripe_account_save(
            organization=cast.alpha,
            webhook_secret=alpha_stripe.remote.webhook_secret,
            accept_cards=True,
            accept_ach=True,
            by=cast.alice,
        )

    assert set(deliver(alpha_stripe, events[1:])) == {200}
    assert set(deliver(alpha_stripe, events[:1], secret=old)) == {400}
    assert fresh(invoice).status == InvoiceStatus.PAID


def test_with_the_database_broker_the_job_is_written_with_the_event(
    alpha_stripe, invoice, joan, monkeypatch
):
    """Outside the tests' sync mode the job's row is written in the transaction
    that records the event: visible before it commits, gone if it rolls back."""
    from django.db import transaction
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from integrations.stripe.webhooks import webhook_receive

    monkeypatch.setattr(Conf, "SYNC", False)
    _, events = pay(alpha_stripe, invoice, joan)
    body, header = alpha_stripe.standin.sign(
        events[-1], alpha_stripe.remote.webhook_secret
    )
    token = alpha_stripe.account.webhook_token
    queued = OrmQ.objects.count()

    class RolledBack(Exception):
        pass

    try:
        with transaction.atomic():
            received = webhook_receive(token=token, body=body, signature=header)
            assert received.status == 200
            (job,) = OrmQ.objects.order_by("-pk")[:1]
            assert OrmQ.objects.count() == queued + 1  # before any commit
            (event,) = alpha_stripe.events()
            assert job.task["args"][1] == alpha_stripe.organization.pk
            assert job.task["args"][2] == {"event_id": event.pk}
            raise RolledBack
    except RolledBack:
        pass

    assert OrmQ.objects.count() == queued
    assert alpha_stripe.events() == []
