"""The platform's webhook (integrations.stripe.platform): Stripe Billing's events
about a firm's subscription, sent by the stand-in to /webhooks/stripe/platform/
with the real signature scheme. Forged, stale, duplicate and out-of-order
events; paid, failed, updated and deleted; a firm read-only after a failed
payment keeps its export and gets its writes back once paid."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import FirmSubscription, SubscriptionStatus
from integrations.stripe.models import PlatformEvent
from tests.conftest import PLATFORM_WEBHOOK_SECRET
from tests.factories import make_subscription, subscribe_through_checkout

HOOK = "/webhooks/stripe/platform/"
NEW_CLIENT = "/o/alpha/clients/new/"
CLIENT_DATA = {
    "display_name": "After The Webhook",
    "entity_type": "individual",
    "status": "active",
    "risk_level": "low",
    "fiscal_year_end_month": "12",
    "fiscal_year_end_day": "31",
    "country": "US",
}


def _subscription(org) -> FirmSubscription:
    with tenant_context(org):
        return FirmSubscription.objects.select_related("plan").get(organization=org)


def _reads_of(platform_stripe, sub_id: str) -> int:
    return len(
        platform_stripe.standin.requests_to(f"/v1/subscriptions/{sub_id}", "GET")
    )


@pytest.fixture
def alpha_subscribed(cast, login_as, platform_stripe, alpha_on_starter):
    """Alpha, subscribed to Growth through Checkout, its events delivered."""
    subscribe_through_checkout(
        login_as(cast.alice), platform_stripe.standin, "alpha", "growth"
    )
    return platform_stripe.subscription_of(cast.alpha)


# Paid, failed, updated, deleted ---------------------------------------------------------


def test_a_paid_subscription_makes_the_firm_active_on_its_plan(
    cast, platform_stripe, alpha_subscribed
):
    subscription = _subscription(cast.alpha)

    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.plan == platform_stripe.growth
    assert subscription.stripe_subscription_id == alpha_subscribed
    assert subscription.current_period_end is not None
    assert subscription.problem_since is None
    events = PlatformEvent.objects.order_by("pk")
    assert {e.type: e.status for e in events} == {
        "customer.subscription.created": "processed",
        "invoice.created": "ignored",
        "invoice.paid": "processed",
        "checkout.session.completed": "processed",
    }
    with tenant_context(cast.alpha):
        [changed] = AuditEvent.objects.filter(action=AuditAction.SUBSCRIPTION_CHANGED)
    assert changed.detail["to"]["status"] == "active"


def test_a_failed_renewal_makes_the_firm_past_due_and_read_only_after_grace(
    cast,
    login_as,
    platform_stripe,
    alpha_subscribed,
    settings,
    django_capture_on_commit_callbacks,
):
    platform_stripe.standin.subscription_renew(
        alpha_subscribed, paid=False, deliver=True
    )
    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert subscription.problem_since is not None
    staff = login_as(cast.sam)
    warned = staff.get("/o/alpha/clients/").content.decode()
    assert "The last payment for the subscription failed." in warned

    settings.PLATFORM_BILLING_GRACE_DAYS = 0  # the grace days are over
    refused = staff.post(NEW_CLIENT, CLIENT_DATA)
    owner = login_as(cast.alice)
    page = owner.get("/o/alpha/").content.decode()
    with django_capture_on_commit_callbacks():
        export = owner.post("/o/alpha/data/export/")

    assert refused.status_code == 403
    assert "Alpha Accounting is read-only: the subscription payment failed" in (
        refused.content.decode()
    )
    assert 'href="/o/alpha/subscription/">Fix the payment</a>' in page
    assert export.status_code == 302


def test_paid_again_the_firm_is_active_and_writable(
    cast, login_as, platform_stripe, alpha_subscribed, settings
):
    settings.PLATFORM_BILLING_GRACE_DAYS = 0
    standin = platform_stripe.standin
    standin.subscription_renew(alpha_subscribed, paid=False, deliver=True)
    assert login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA).status_code == 403

    standin.subscription_renew(alpha_subscribed, paid=True, deliver=True)

    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.problem_since is None
    assert login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA).status_code == 302


def test_a_plan_changed_in_stripe_is_the_firms_plan(
    cast, platform_stripe, alpha_subscribed
):
    import stripe

    from tests.conftest import PLATFORM_KEY

    api = stripe.StripeClient(
        PLATFORM_KEY,
        base_addresses={"api": platform_stripe.standin.url},
        max_network_retries=0,
    )
    item = api.v1.subscriptions.retrieve(alpha_subscribed)["items"].data[0].id
    api.v1.subscriptions.update(
        alpha_subscribed,
        params={
            "items": [{"id": item, "price": platform_stripe.starter.stripe_price_id}]
        },
    )
    [updated] = [
        e
        for e in platform_stripe.account.events
        if e["type"] == "customer.subscription.updated"
    ]

    [delivery] = platform_stripe.standin.deliver(
        [updated], account=platform_stripe.account
    )

    assert delivery.status == 200
    assert _subscription(cast.alpha).plan == platform_stripe.starter


def test_a_deleted_subscription_is_canceled_and_read_only_after_grace(
    cast, login_as, platform_stripe, alpha_subscribed, settings
):
    platform_stripe.standin.subscription_set_status(
        alpha_subscribed, "canceled", deliver=True
    )
    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA).status_code == 302

    settings.PLATFORM_BILLING_GRACE_DAYS = 0
    refused = login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA)

    assert refused.status_code == 403
    assert "its subscription was canceled on" in refused.content.decode()


# Forged, stale, duplicate, out of order ---------------------------------------------------


def test_a_forged_event_is_refused_and_nothing_is_recorded(
    cast, platform_stripe, alpha_subscribed
):
    PlatformEvent.objects.all().delete()
    events = platform_stripe.standin.subscription_set_status(
        alpha_subscribed, "canceled"
    )

    [delivery] = platform_stripe.standin.deliver(
        events, account=platform_stripe.account, wrong_secret=True
    )

    assert delivery.status == 400
    assert not PlatformEvent.objects.exists()
    assert _subscription(cast.alpha).status == SubscriptionStatus.ACTIVE


def test_a_stale_event_is_refused(cast, platform_stripe, alpha_subscribed):
    PlatformEvent.objects.all().delete()
    events = platform_stripe.standin.subscription_set_status(
        alpha_subscribed, "canceled"
    )

    [delivery] = platform_stripe.standin.deliver(
        events, account=platform_stripe.account, stale=True
    )

    assert delivery.status == 400
    assert not PlatformEvent.objects.exists()
    assert _subscription(cast.alpha).status == SubscriptionStatus.ACTIVE


def test_a_duplicate_event_is_recorded_and_applied_once(
    cast, platform_stripe, alpha_subscribed
):
    events = platform_stripe.standin.subscription_renew(alpha_subscribed, paid=False)
    [failed] = [e for e in events if e["type"] == "invoice.payment_failed"]
    reads = _reads_of(platform_stripe, alpha_subscribed)

    deliveries = platform_stripe.standin.deliver(
        [failed], account=platform_stripe.account, times=3
    )

    assert [d.status for d in deliveries] == [200, 200, 200]
    assert PlatformEvent.objects.filter(event_id=failed["id"]).count() == 1
    assert _reads_of(platform_stripe, alpha_subscribed) == reads + 1
    assert _subscription(cast.alpha).status == SubscriptionStatus.PAST_DUE


def test_events_out_of_order_leave_what_stripe_has_now(
    cast, platform_stripe, alpha_subscribed
):
    standin = platform_stripe.standin
    failed = standin.subscription_renew(alpha_subscribed, paid=False)
    paid = standin.subscription_renew(alpha_subscribed, paid=True)

    deliveries = standin.deliver(
        [*failed, *paid], account=platform_stripe.account, reverse=True
    )

    assert {d.status for d in deliveries} == {200}
    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.problem_since is None


def test_a_late_event_of_a_former_subscription_changes_nothing(
    cast, login_as, platform_stripe, alpha_subscribed
):
    standin = platform_stripe.standin
    old_deleted = standin.subscription_set_status(alpha_subscribed, "canceled")
    standin.deliver(old_deleted, account=platform_stripe.account)
    subscribe_through_checkout(login_as(cast.alice), standin, "alpha", "starter")
    new = platform_stripe.subscription_of(cast.alpha)

    [late] = standin.deliver(old_deleted, account=platform_stripe.account)
    replayed = {**old_deleted[0], "id": old_deleted[0]["id"] + "x"}
    [again] = standin.deliver([replayed], account=platform_stripe.account)

    assert new != alpha_subscribed
    assert (late.status, again.status) == (200, 200)
    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.stripe_subscription_id == new
    assert subscription.plan == platform_stripe.starter


# Unknown, unhandled, bad bodies, billing off ----------------------------------------------


def _signed_post(payload: bytes | str, secret: str = PLATFORM_WEBHOOK_SECRET):
    import stripe

    text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    header = stripe.WebhookSignature.generate_signature_header(text, secret)
    return HttpClient().post(
        HOOK,
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def _event(event_type: str, obj: dict) -> str:
    return json.dumps(
        {
            "id": f"evt_{event_type.replace('.', '_')}_1",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    )


def test_an_event_for_a_customer_no_firm_has_is_answered_and_set_aside(
    cast, platform_stripe, caplog
):
    response = _signed_post(
        _event("invoice.paid", {"object": "invoice", "customer": "cus_nobody"})
    )

    assert response.status_code == 200
    assert response.content == b"Unknown firm."
    event = PlatformEvent.objects.get()
    assert (event.status, event.note) == ("ignored", "No firm has this customer.")
    assert "no firm has customer 'cus_nobody'" in caplog.text


def test_an_event_the_platform_does_not_act_on_is_recorded_as_ignored(
    cast, platform_stripe
):
    response = _signed_post(
        _event("customer.updated", {"object": "customer", "customer": "cus_1"})
    )

    assert response.status_code == 200
    assert PlatformEvent.objects.get().status == "ignored"


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"object": "event"}', b"\xff\xfe", b'{"object": "list"}'],
    ids=["not-json", "no-id", "not-utf8", "not-an-event"],
)
def test_a_signed_body_that_is_no_event_is_a_400_never_a_500(platform_stripe, body):
    response = _signed_post(body)

    assert response.status_code == 400
    assert not PlatformEvent.objects.exists()


def test_a_get_is_not_allowed(platform_stripe):
    assert HttpClient().get(HOOK).status_code == 405


def test_with_billing_off_the_webhook_does_not_exist(cast, starter):
    response = _signed_post(_event("invoice.paid", {"object": "invoice"}))

    assert response.status_code == 404


def test_stripe_unreachable_while_the_job_runs_is_retried_and_changes_nothing(
    cast, platform_stripe, alpha_subscribed, django_capture_on_commit_callbacks
):
    import stripe

    from integrations.stripe.platform import platform_event_job

    standin = platform_stripe.standin
    [event] = standin.subscription_set_status(alpha_subscribed, "past_due")
    standin.fail_next(f"/v1/subscriptions/{alpha_subscribed}", method="GET")
    body, _ = standin.sign(event, PLATFORM_WEBHOOK_SECRET)

    with django_capture_on_commit_callbacks() as jobs:
        response = _signed_post(body)
    assert response.status_code == 200  # answered at once; the job runs after
    with pytest.raises(stripe.APIError):  # django-q2's sync mode raises it here
        for job in jobs:
            job()

    record = PlatformEvent.objects.get(event_id=event["id"])
    assert record.status == "failed"
    assert _subscription(cast.alpha).status == SubscriptionStatus.ACTIVE
    # The retry (queued by the job adapter, with backoff) reads Stripe again.
    with tenant_context(cast.alpha):
        outcome = platform_event_job(organization=cast.alpha, event_id=record.pk)
    assert outcome == "applied"
    assert _subscription(cast.alpha).status == SubscriptionStatus.PAST_DUE


def test_a_firm_never_reads_another_firms_events(
    cast, platform_stripe, alpha_subscribed
):
    """Beta's subscription row names no customer of Alpha's: Alpha's events
    reach Alpha only."""
    make_subscription(cast.beta, platform_stripe.starter, stripe_customer_id="cus_beta")
    platform_stripe.standin.subscription_set_status(
        alpha_subscribed, "past_due", deliver=True
    )

    assert _subscription(cast.alpha).status == SubscriptionStatus.PAST_DUE
    assert _subscription(cast.beta).status == SubscriptionStatus.TRIALING
