"""An owner connects the firm's Stripe account on a phone: the key (checked with
the stand-in), then the webhook's signing secret; each state of the page fits
390 px and is WCAG 2.1 AA (axe-core), with events listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from integrations.stripe.models import StripeEvent
from tests.browser.axe import assert_fits_and_accessible
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

EVENTS = [
    ("checkout.session.completed", "processed", ""),
    ("charge.succeeded", "ignored", ""),
    (
        "checkout.session.async_payment_succeeded",
        "failed",
        "Checkout session cs_test_x names an invoice this firm does not have.",
    ),
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_connects_stripe_on_a_phone(
    cast, phone, console_errors, stripe_standin
):
    remote = stripe_standin.add_account(name="Alpha Accounting")
    sign_in(phone, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    phone.goto("/o/alpha/integrations/stripe/")
    expect(phone.get_by_test_id("stripe-not-connected")).to_be_visible()
    assert_fits_and_accessible(phone)
    phone.get_by_label("Secret key").fill(remote.secret_key)
    phone.get_by_role("button", name="Check and connect").click()

    expect(phone.get_by_test_id("stripe-status")).to_have_text(
        "Waiting for the webhook signing secret"
    )
    webhook_url = phone.get_by_test_id("stripe-webhook-url").input_value()
    assert "/webhooks/stripe/" in webhook_url
    assert_fits_and_accessible(phone)
    phone.get_by_label("Webhook signing secret").fill(remote.webhook_secret)
    phone.get_by_role("button", name="Save").click()

    expect(phone.get_by_test_id("stripe-status")).to_have_text("Clients can pay online")
    expect(phone.get_by_test_id("stripe-key-hint")).to_have_text(
        f"sk_test_…{remote.secret_key[-4:]}"
    )
    assert remote.secret_key not in phone.content()
    assert_fits_and_accessible(phone)
    with tenant_context(cast.alpha):
        for n, (kind, status, error) in enumerate(EVENTS):
            StripeEvent.objects.create(
                organization=cast.alpha,
                event_id=f"evt_{n}",
                type=kind,
                payload={},
                status=status,
                error=error,
            )
    phone.reload()
    expect(phone.get_by_test_id("stripe-events").locator("tbody tr")).to_have_count(3)
    assert_fits_and_accessible(phone)
    assert console_errors == [], console_errors
