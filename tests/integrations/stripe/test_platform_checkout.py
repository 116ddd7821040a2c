"""The owners' subscription buttons (integrations.stripe.platform_views):
Checkout in subscription mode, the return from it, changing the plan and
Stripe's billing page, through the Stripe stand-in with the real library.
Whatever Stripe answers, the owner gets a page and a message, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import FirmSubscription, Role, SubscriptionStatus
from tests.factories import (
    make_client,
    make_member,
    make_subscription,
    subscribe_through_checkout,
)

CHECKOUT = "/o/alpha/subscription/checkout/"
CHANGE = "/o/alpha/subscription/change/"
PORTAL = "/o/alpha/subscription/billing/"
PAGE = "/o/alpha/subscription/"


def _subscription(org) -> FirmSubscription:
    with tenant_context(org):
        return FirmSubscription.objects.select_related("plan").get(organization=org)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Subscribing -------------------------------------------------------------------------


def test_subscribe_opens_stripe_checkout_for_the_plans_price(
    cast, login_as, platform_stripe, alpha_on_starter
):
    response = login_as(cast.alice).post(CHECKOUT, {"plan": "growth"})

    assert response.status_code == 302
    assert response.url.startswith(f"{platform_stripe.standin.url}/checkout/cs_test_")
    [customer] = platform_stripe.standin.requests_to("/v1/customers", "POST")
    assert customer.params["metadata"] == {"organization": str(cast.alpha.uuid)}
    assert customer.idempotency_key == f"platform:{cast.alpha.uuid}:customer"
    [session] = platform_stripe.standin.requests_to("/v1/checkout/sessions", "POST")
    assert session.params["mode"] == "subscription"
    assert session.params["line_items"] == [
        {"price": platform_stripe.growth.stripe_price_id, "quantity": "1"}
    ]
    assert session.params["customer"] == _subscription(cast.alpha).stripe_customer_id
    assert session.params["success_url"] == (
        "http://testserver/o/alpha/subscription/checkout/done/"
        "?session_id={CHECKOUT_SESSION_ID}"
    )
    assert session.idempotency_key.startswith(
        f"platform:{cast.alpha.uuid}:checkout:growth:"
    )
    # The trial's ten days left carry over: the first charge is when it ends.
    trial_end = int(_subscription(cast.alpha).trial_ends_at.timestamp())
    assert session.params["subscription_data"]["trial_end"] == str(trial_end)


def test_a_double_click_opens_one_session_for_one_customer(
    cast, login_as, platform_stripe, alpha_on_starter
):
    http = login_as(cast.alice)

    first = http.post(CHECKOUT, {"plan": "growth"})
    second = http.post(CHECKOUT, {"plan": "growth"})

    assert first.url == second.url
    assert len(platform_stripe.account.of_kind("customer")) == 1
    assert len(platform_stripe.account.of_kind("checkout.session")) == 1


def test_back_from_checkout_the_page_shows_the_plan_before_any_webhook(
    cast, login_as, platform_stripe, alpha_on_starter
):
    http = login_as(cast.alice)
    session_id = subscribe_through_checkout(
        http, platform_stripe.standin, "alpha", "growth", deliver=False
    )

    response = http.get(
        f"/o/alpha/subscription/checkout/done/?session_id={session_id}", follow=True
    )

    html = response.content.decode()
    assert "Thank you: Alpha Accounting is on Growth." in html
    assert 'data-testid="subscription-plan">Growth<' in html
    subscription = _subscription(cast.alpha)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.stripe_subscription_id


def test_another_firms_checkout_session_is_not_taken_for_this_firms(
    cast, login_as, platform_stripe, alpha_on_starter
):
    make_subscription(cast.beta, platform_stripe.starter)
    session_id = subscribe_through_checkout(
        login_as(cast.oscar), platform_stripe.standin, "beta", "growth", deliver=False
    )

    response = login_as(cast.alice).get(
        f"/o/alpha/subscription/checkout/done/?session_id={session_id}"
    )

    assert response.status_code == 302
    assert "Stripe has not confirmed the subscription yet" in _messages(response)[0]
    assert _subscription(cast.alpha).stripe_subscription_id == ""


def test_a_plan_smaller_than_what_the_firm_uses_is_refused_before_stripe(
    cast, login_as, platform_stripe, alpha_on_starter
):
    for name in ("One", "Two"):
        make_client(cast.alpha, name)
    platform_stripe.starter.max_clients = 1
    platform_stripe.starter.save()

    response = login_as(cast.alice).post(CHECKOUT, {"plan": "starter"})

    assert response.url == PAGE
    assert _messages(response) == [
        "Alpha Accounting uses more than Starter allows: Clients: the firm uses 2, "
        "Starter allows 1. Make room first, or choose a larger plan."
    ]
    assert platform_stripe.standin.requests == []


def test_a_plan_without_a_price_cannot_be_bought(
    cast, login_as, platform_stripe, alpha_on_starter
):
    platform_stripe.growth.stripe_price_id = ""
    platform_stripe.growth.save()

    response = login_as(cast.alice).post(CHECKOUT, {"plan": "growth"})

    assert _messages(response) == ["Growth cannot be subscribed to at the moment."]
    page = login_as(cast.alice).get(PAGE).content.decode()
    assert "Not on sale" in page


def test_stripe_refusing_or_unreachable_is_a_message_never_a_500(
    cast, login_as, platform_stripe, alpha_on_starter
):
    platform_stripe.standin.fail_next("/v1/customers", status=500)

    response = login_as(cast.alice).post(CHECKOUT, {"plan": "growth"})

    assert response.status_code == 302
    assert response.url == PAGE
    assert _messages(response)[0].startswith("Stripe refused the request")
    assert _messages(response)[0].endswith("Nothing was changed.")


def test_a_firm_with_a_subscription_changes_its_plan_instead_of_buying_another(
    cast, login_as, platform_stripe, alpha_on_starter
):
    http = login_as(cast.alice)
    subscribe_through_checkout(http, platform_stripe.standin, "alpha", "growth")

    again = http.post(CHECKOUT, {"plan": "starter"})
    changed = http.post(CHANGE, {"plan": "starter"})

    assert _messages(again) == [
        "The firm already has a subscription: change its plan, or manage it in "
        "Stripe's billing page."
    ]
    assert _messages(changed)[-1] == "Alpha Accounting is on Starter now."
    assert _subscription(cast.alpha).plan == platform_stripe.starter
    sub = platform_stripe.account.get(
        platform_stripe.subscription_of(cast.alpha), "subscription"
    )
    assert (
        sub["items"]["data"][0]["price"]["id"]
        == platform_stripe.starter.stripe_price_id
    )
    [update] = platform_stripe.standin.requests_to(
        f"/v1/subscriptions/{sub['id']}", "POST"
    )
    assert update.params["proration_behavior"] == "create_prorations"


def test_changing_to_a_plan_the_firm_has_outgrown_is_refused(
    cast, login_as, platform_stripe, alpha_on_starter
):
    http = login_as(cast.alice)
    subscribe_through_checkout(http, platform_stripe.standin, "alpha", "growth")
    for n in range(3):
        make_member(cast.alpha, f"Extra Person{n}", Role.STAFF)

    response = http.post(CHANGE, {"plan": "starter"})

    assert _messages(response) == [
        "Alpha Accounting uses more than Starter allows: Members: the firm uses 9, "
        "Starter allows 8. Make room first, or choose a larger plan."
    ]
    assert _subscription(cast.alpha).plan == platform_stripe.growth


# Stripe's billing page ------------------------------------------------------------------


def test_manage_billing_opens_stripes_portal_and_a_cancellation_there_arrives(
    cast, login_as, platform_stripe, alpha_on_starter
):
    http = login_as(cast.alice)
    subscribe_through_checkout(http, platform_stripe.standin, "alpha", "growth")

    response = http.post(PORTAL)

    assert response.status_code == 302
    assert response.url.startswith(f"{platform_stripe.standin.url}/billing_portal/bps_")
    [portal] = platform_stripe.standin.requests_to("/v1/billing_portal/sessions")
    assert portal.params["return_url"] == "http://testserver/o/alpha/subscription/"
    # The owner cancels on Stripe's page; its event arrives by the webhook.
    portal_id = response.url.rsplit("/", 1)[-1]
    platform_stripe.standin.subscription_set_status(
        platform_stripe.subscription_of(cast.alpha), "canceled", deliver=True
    )
    assert portal_id.startswith("bps_")
    assert _subscription(cast.alpha).status == SubscriptionStatus.CANCELED


def test_without_a_billing_account_manage_billing_says_to_subscribe(
    cast, login_as, platform_stripe, alpha_on_starter
):
    response = login_as(cast.alice).post(PORTAL)

    assert _messages(response) == ["Subscribe first: there is no billing account yet."]


# Who and when -------------------------------------------------------------------------


def test_a_read_only_firms_owner_can_still_subscribe(
    cast, login_as, platform_stripe, alpha_on_starter
):
    make_subscription(
        cast.alpha,
        platform_stripe.starter,
        trial_ends_at=timezone.now() - timedelta(days=3),
    )
    http = login_as(cast.alice)
    assert http.post("/o/alpha/clients/new/", {}).status_code == 403

    subscribe_through_checkout(http, platform_stripe.standin, "alpha", "growth")

    assert _subscription(cast.alpha).status == SubscriptionStatus.ACTIVE
    assert http.get("/o/alpha/clients/new/").status_code == 200
    assert "read-only" not in http.get("/o/alpha/").content.decode()


@pytest.mark.parametrize("who", ["adam", "sam"])
def test_only_owners_press_the_buttons(cast, login_as, platform_stripe, who):
    http = login_as(getattr(cast, who))

    assert http.post(CHECKOUT, {"plan": "growth"}).status_code == 403
    assert http.post(PORTAL).status_code == 403
    assert http.get(PAGE).status_code == 403
    assert platform_stripe.standin.requests == []


def test_with_billing_off_the_buttons_lead_to_the_dashboard(cast, login_as, starter):
    http = login_as(cast.alice)

    for response in (
        http.post(CHECKOUT, {"plan": "starter"}),
        http.post(PORTAL),
        http.get(PAGE),
        http.get("/o/alpha/subscription/checkout/done/?session_id=cs_x"),
    ):
        assert response.status_code == 302
        assert response.url == "/o/alpha/"
