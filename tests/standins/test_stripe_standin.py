"""The Stripe stand-in answers the real `stripe` library the way Stripe does.

These tests need no database: they drive tests/standins/stripe.py through
`stripe.StripeClient` and check what comes back, so that the app's tests can
trust it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
import stripe

from tests.standins.stripe import parse_form


@pytest.fixture
def account(stripe_standin):
    return stripe_standin.add_account(name="Alpha Accounting")


def client_for(standin, key: str, *, timeout: float = 5.0) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": standin.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


@pytest.fixture
def api(stripe_standin, account) -> stripe.StripeClient:
    return client_for(stripe_standin, account.secret_key)


def invoice_session(
    api: stripe.StripeClient, *, key: str, amount: int = 12500, **extra
):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "Invoice INV-00001"},
                },
                "quantity": 1,
            }
        ],
        "payment_method_types": ["card", "us_bank_account"],
        "success_url": "http://app.test/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app.test/invoice",
        "metadata": {"invoice": "inv-uuid", "organization": "7"},
        "payment_intent_data": {"metadata": {"invoice": "inv-uuid"}},
        **extra,
    }
    return api.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )


def test_form_encoding_is_read_back_into_lists_and_dicts():
    pairs = [
        ("line_items[0][price_data][unit_amount]", "500"),
        ("line_items[0][quantity]", "2"),
        ("line_items[1][price]", "price_1"),
        ("metadata[invoice]", "abc"),
        ("expand[0]", "payment_intent"),
    ]
    assert parse_form(pairs) == {
        "line_items": [
            {"price_data": {"unit_amount": "500"}, "quantity": "2"},
            {"price": "price_1"},
        ],
        "metadata": {"invoice": "abc"},
        "expand": ["payment_intent"],
    }


def test_the_key_check_answers_the_account_and_refuses_an_unknown_key(
    stripe_standin, api, account
):
    assert api.v1.accounts.retrieve_current().id == account.id
    assert api.v1.balance.retrieve().object == "balance"
    stranger = client_for(stripe_standin, "sk_test_unknown")
    with pytest.raises(stripe.AuthenticationError):
        stranger.v1.balance.retrieve()


def test_a_checkout_session_is_created_retrieved_and_expired(api):
    session = invoice_session(api, key="inv-uuid:checkout:1")
    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (12500, "usd")
    assert session.payment_method_types == ["card", "us_bank_account"]
    assert session.url.endswith(f"/checkout/{session.id}")
    assert session.metadata["invoice"] == "inv-uuid"
    again = api.v1.checkout.sessions.retrieve(session.id)
    assert again.id == session.id
    expired = api.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        api.v1.checkout.sessions.expire(session.id)


def test_an_idempotency_key_replays_and_refuses_other_parameters(stripe_standin, api):
    first = invoice_session(api, key="inv-uuid:checkout:1")
    second = invoice_session(api, key="inv-uuid:checkout:1")
    assert second.id == first.id
    assert len(api.v1.checkout.sessions.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        invoice_session(api, key="inv-uuid:checkout:1", amount=9900)
    recorded = stripe_standin.requests_to("/v1/checkout/sessions", "POST")
    assert [r.idempotency_key for r in recorded] == ["inv-uuid:checkout:1"] * 3
    assert [(r.status, r.replayed) for r in recorded] == [
        (200, False),
        (200, True),
        (400, False),
    ]


def test_refused_parameters_are_stripe_shaped_errors(api):
    with pytest.raises(stripe.InvalidRequestError) as small:
        invoice_session(api, key="k1", amount=10)
    assert small.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as bank_in_euros:
        api.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "http://app.test/",
                "payment_method_types": ["us_bank_account"],
                "line_items": [
                    {
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 5000,
                            "product_data": {"name": "x"},
                        },
                        "quantity": 1,
                    }
                ],
            }
        )
    assert bank_in_euros.value.param == "payment_method_types"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        api.v1.payment_intents.retrieve("pi_nothing")
    assert missing.value.code == "resource_missing"
    assert missing.value.http_status == 404


def test_a_card_payment_completes_the_session_paid(stripe_standin, api):
    session = invoice_session(api, key="k")
    events = stripe_standin.complete_checkout(session.id, "card")
    assert [e["type"] for e in events][-1] == "checkout.session.completed"
    done = api.v1.checkout.sessions.retrieve(
        session.id,
        params={"expand": ["payment_intent", "payment_intent.latest_charge"]},
    )
    assert (done.status, done.payment_status) == ("complete", "paid")
    intent = done.payment_intent
    assert intent.status == "succeeded"
    assert intent.amount_received == 12500
    assert intent.metadata["invoice"] == "inv-uuid"
    assert intent.latest_charge.amount == 12500


def test_a_bank_debit_completes_unpaid_then_settles_or_fails(stripe_standin, api):
    good = invoice_session(api, key="a")
    bad = invoice_session(api, key="b", amount=5000)
    completed = stripe_standin.complete_checkout(good.id, "us_bank_account")
    stripe_standin.complete_checkout(bad.id, "us_bank_account")
    assert completed[-1]["data"]["object"]["payment_status"] == "unpaid"
    pending = api.v1.checkout.sessions.retrieve(
        good.id, params={"expand": ["payment_intent"]}
    )
    assert pending.payment_intent.status == "processing"

    succeeded = stripe_standin.settle(good.id, succeeded=True)
    failed = stripe_standin.settle(bad.id, succeeded=False)
    assert succeeded[-1]["type"] == "checkout.session.async_payment_succeeded"
    assert failed[-1]["type"] == "checkout.session.async_payment_failed"
    paid = api.v1.checkout.sessions.retrieve(
        good.id, params={"expand": ["payment_intent"]}
    )
    assert (paid.payment_status, paid.payment_intent.status) == ("paid", "succeeded")
    lost = api.v1.payment_intents.retrieve(
        api.v1.checkout.sessions.retrieve(bad.id).payment_intent
    )
    assert lost.status == "requires_payment_method"
    assert "could not be debited" in lost.last_payment_error.message


def test_a_refund_never_goes_beyond_what_the_charge_has_left(stripe_standin, api):
    session = invoice_session(api, key="k")
    stripe_standin.complete_checkout(session.id, "card")
    intent = api.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = api.v1.refunds.create(
        params={"payment_intent": intent, "amount": 10000},
        options={"idempotency_key": "pay-uuid:refund:1"},
    )
    assert (refund.object, refund.amount, refund.status) == (
        "refund",
        10000,
        "succeeded",
    )
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        api.v1.refunds.create(params={"payment_intent": intent, "amount": 2501})
    assert too_much.value.code == "amount_too_large"
    assert "greater than unrefunded amount" in str(too_much.value)
    rest = api.v1.refunds.create(params={"payment_intent": intent})
    assert rest.amount == 2500
    listed = api.v1.refunds.list(params={"payment_intent": intent})
    assert sorted(r.amount for r in listed.data) == [2500, 10000]
    with pytest.raises(stripe.InvalidRequestError) as done:
        api.v1.refunds.create(params={"payment_intent": intent, "amount": 1})
    assert done.value.code == "charge_already_refunded"


def test_a_dashboard_refund_makes_its_events(stripe_standin, api):
    session = invoice_session(api, key="k")
    stripe_standin.complete_checkout(session.id, "card")
    intent = api.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund, events = stripe_standin.refund_from_dashboard(intent, 2000)
    assert refund["amount"] == 2000
    assert [e["type"] for e in events] == ["refund.created", "charge.refunded"]
    assert events[1]["data"]["object"]["amount_refunded"] == 2000


def test_subscriptions_are_created_updated_renewed_and_canceled(stripe_standin, api):
    customer = api.v1.customers.create(params={"email": "owner@alpha.test"})
    price = api.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 4900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Practice plan"},
            "lookup_key": "practice",
        }
    )
    sub = api.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "trial_period_days": 14,
            "metadata": {"organization": "7"},
        }
    )
    assert sub.status == "trialing"
    assert sub["items"].data[0].price.id == price.id
    updated = api.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert updated.cancel_at_period_end is True
    events = stripe_standin.subscription_renew(sub.id, paid=False)
    assert [e["type"] for e in events][-2:] == [
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert api.v1.subscriptions.retrieve(sub.id).status == "past_due"
    canceled = api.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    portal = api.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://app.test/plan"}
    )
    assert portal.url.endswith(f"/billing_portal/{portal.id}")
    found = api.v1.prices.list(params={"lookup_keys": ["practice"]})
    assert [p.id for p in found.data] == [price.id]


def test_a_subscription_checkout_completes_with_a_subscription(stripe_standin, api):
    price = api.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 9900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Firm plan"},
        }
    )
    session = api.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 1}],
            "customer_email": "owner@alpha.test",
            "success_url": "http://app.test/plan",
        }
    )
    events = stripe_standin.complete_checkout(session.id, "card")
    types = [e["type"] for e in events]
    assert "customer.subscription.created" in types
    assert "invoice.paid" in types
    assert types[-1] == "checkout.session.completed"
    done = api.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription"]}
    )
    assert done.subscription.status == "active"
    assert done.customer.startswith("cus_")


def test_delivered_events_carry_a_signature_stripe_verifies(stripe_standin, account):
    received = []

    def target(body: bytes, headers: dict) -> int:
        received.append((body, headers["Stripe-Signature"]))
        return 200

    event = stripe_standin.event(account, "ping", {"id": "x", "object": "thing"})
    deliveries = stripe_standin.deliver([event], account=account, to=target, times=2)
    assert [d.status for d in deliveries] == [200, 200]
    body, header = received[0]
    verified = stripe.Webhook.construct_event(body, header, account.webhook_secret)
    assert verified.id == event["id"]

    stripe_standin.deliver([event], account=account, to=target, stale=True)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(*received[-1], account.webhook_secret)
    stripe_standin.deliver([event], account=account, to=target, wrong_secret=True)
    with pytest.raises(stripe.SignatureVerificationError, match="expected signature"):
        stripe.Webhook.construct_event(*received[-1], account.webhook_secret)


def test_the_hosted_page_pays_posts_the_events_and_returns(
    stripe_standin, api, account
):
    received = []
    account.webhook_target = lambda body, headers: received.append(body) or 200
    session = invoice_session(api, key="k")
    page = urllib.request.urlopen(session.url, timeout=5).read().decode()  # noqa: S310
    assert "Pay by card" in page and "Pay by bank account" in page

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"{session.url}/pay", data=b"method=card", timeout=5)
    assert answer.value.code == 303
    assert (
        answer.value.headers["Location"] == f"http://app.test/paid?session={session.id}"
    )
    types = [json.loads(body)["type"] for body in received]
    assert types[-1] == "checkout.session.completed"


def test_a_slow_answer_past_the_timeout_is_recorded(stripe_standin, account):
    api = client_for(stripe_standin, account.secret_key, timeout=0.5)
    stripe_standin.fail_next("/v1/balance", status=None, delay=1.0)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        api.v1.balance.retrieve()
    assert time.monotonic() - started < 0.9
    (recorded,) = stripe_standin.requests_to("/v1/balance")
    assert recorded.api_key == account.secret_key
    stripe_standin.fail_next("/v1/balance", status=500)
    with pytest.raises(stripe.APIError):
        api.v1.balance.retrieve()
    assert api.v1.balance.retrieve().object == "balance"
