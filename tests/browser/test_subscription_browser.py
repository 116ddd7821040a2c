"""The Subscription page and the subscription's notice in a browser, on a desk
and on a phone: they fit the screen and axe finds nothing (WCAG 2.1 AA), for
a firm read-only after a failed payment and one whose trial is ending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from advisoros.tenancy.models import SubscriptionStatus
from tests.browser.axe import assert_fits_and_accessible
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_client, make_plan, make_subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plans(starter):
    starter.stripe_price_id = "price_starter"
    starter.monthly_price = 49
    starter.save()
    make_plan(
        "growth",
        "Growth",
        monthly_price=149,
        max_members=20,
        max_clients=100,
        max_storage_gb=None,
        stripe_price_id="price_growth",
    )
    make_plan("firm", "Firm", monthly_price=399, max_members=None, max_clients=None)
    return starter


@pytest.mark.parametrize("tab", ["page", "phone"], ids=["desk", "phone"])
def test_a_read_only_firms_pages_and_subscription_page_fit_and_are_accessible(
    cast, request, tab, console_errors, platform_billing, plans
):
    make_client(cast.alpha, "Jane Example")
    make_client(cast.alpha, "John Example")
    make_subscription(
        cast.alpha,
        plans,
        status=SubscriptionStatus.PAST_DUE,
        trial_ends_at=None,
        current_period_end=timezone.now() - timedelta(days=20),
        problem_since=timezone.now() - timedelta(days=20),
        stripe_customer_id="cus_alpha",
        stripe_subscription_id="sub_alpha",
    )
    page = request.getfixturevalue(tab)
    sign_in(page, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    expect(page.get_by_test_id("subscription-notice")).to_contain_text("read-only")
    assert_fits_and_accessible(page)
    page.goto("/o/alpha/subscription/")
    expect(page.get_by_role("heading", name="Subscription", exact=True)).to_be_visible()
    expect(page.get_by_test_id("usage-clients")).to_contain_text("2 of 3")
    expect(page.get_by_label("Clients")).to_be_visible()
    expect(page.get_by_role("button", name="Manage billing")).to_be_visible()
    assert_fits_and_accessible(page)
    page.goto("/o/alpha/clients/")
    assert_fits_and_accessible(page)
    assert console_errors == []


@pytest.mark.parametrize("tab", ["page", "phone"], ids=["desk", "phone"])
def test_a_trial_ending_soon_is_announced_accessibly(
    cast, request, tab, console_errors, platform_billing, plans
):
    make_subscription(
        cast.alpha, plans, trial_ends_at=timezone.now() + timedelta(days=2)
    )
    page = request.getfixturevalue(tab)
    sign_in(page, cast.sam.email, PASSWORD, lands_on="**/o/alpha/")

    expect(page.get_by_test_id("subscription-notice")).to_contain_text(
        "The trial ends in 2 days"
    )
    assert_fits_and_accessible(page)
    page.context.clear_cookies()
    sign_in(page, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")
    page.goto("/o/alpha/subscription/")
    expect(page.get_by_role("button", name="Subscribe to Growth")).to_be_visible()
    assert_fits_and_accessible(page)
    assert console_errors == []
