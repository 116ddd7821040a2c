"""The owners' Subscription page (advisoros.tenancy.subscription_views): the
plan, its status and dates, the firm's use of each limit with a bar, and the
plans with their buttons (integrations.stripe's panel); in the navigation of
owners only, and only while the platform's billing is on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import FirmSubscription, Plan, Role, SubscriptionStatus
from tests.factories import (
    make_client,
    make_document,
    make_member,
    make_plan,
    make_subscription,
)

URL = "/o/alpha/subscription/"


def _usage(html: str, what: str) -> str:
    start = html.index(f'data-testid="usage-{what}"')
    return html[start : html.index("</li>", start)]


def test_the_page_shows_the_plan_its_dates_and_the_use_of_each_limit(
    cast, login_as, platform_billing, starter, jane
):
    starter.stripe_price_id = "price_starter"
    starter.save()
    make_plan("growth", "Growth", monthly_price=149, max_storage_gb=None)
    ends = timezone.now() + timedelta(days=10)
    make_subscription(cast.alpha, starter, trial_ends_at=ends)
    make_document(jane, size=300 * 1024**2)

    html = login_as(cast.alice).get(URL).content.decode()

    assert 'data-testid="subscription-plan">Starter<' in html
    assert ">Trial</span>" in html
    assert f"{ends:%B} {ends.day}, {ends.year}" in html
    members = _usage(html, "members")
    assert "6 of 8" in members  # five members and one open invitation
    assert 'max="100"' in members and 'value="75"' in members
    assert "1 of 3" in _usage(html, "clients")
    assert "300 MB of 1 GB" in _usage(html, "storage")
    plans = html[html.index('data-testid="subscription-plans"') :]
    assert 'data-testid="plan-starter"' in plans
    assert 'Subscribe<span class="sr-only"> to Starter</span>' in plans
    assert re.search(r'data-testid="plan-growth".*?Not on sale', plans, re.S)
    assert "Manage billing" not in html  # no billing account yet


def test_a_limit_the_firm_is_over_stands_out(cast, login_as, platform_billing, starter):
    make_subscription(cast.alpha, starter)
    for n in range(3):
        make_member(cast.alpha, f"Extra Person{n}", Role.STAFF)

    members = _usage(login_as(cast.alice).get(URL).content.decode(), "members")

    assert "usage-over" in members
    assert "9 of 8" in members


def test_an_unlimited_limit_has_no_bar(cast, login_as, platform_billing, starter):
    starter.max_clients = None
    starter.save()
    make_subscription(cast.alpha, starter)

    clients = _usage(login_as(cast.alice).get(URL).content.decode(), "clients")

    assert "0 (unlimited)" in clients
    assert "<meter" not in clients


def test_a_firm_without_a_subscription_starts_its_trial_on_the_page(
    cast, login_as, platform_billing, starter
):
    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    with tenant_context(cast.alpha):
        subscription = FirmSubscription.objects.get(organization=cast.alpha)
    assert subscription.status == SubscriptionStatus.TRIALING


def test_with_no_default_plan_the_page_says_so(cast, login_as, platform_billing):
    Plan.objects.update(is_default=False)

    html = login_as(cast.alice).get(URL).content.decode()

    assert 'data-testid="subscription-none"' in html
    assert "has no limits meanwhile" in html


@pytest.mark.parametrize("who", ["adam", "mia", "sam", "rita"])
def test_only_owners_open_it(cast, login_as, platform_billing, starter, who):
    assert login_as(getattr(cast, who)).get(URL).status_code == 403


def test_an_outsider_gets_404(cast, login_as, platform_billing, starter):
    assert login_as(cast.oscar).get(URL).status_code == 404


def test_it_is_in_the_owners_navigation_only_while_billing_is_on(
    cast, login_as, settings, starter
):
    from advisoros.nav import nav_html

    link = f'href="{URL}"'
    off = login_as(cast.alice).get("/o/alpha/").content.decode()
    settings.PLATFORM_STRIPE_SECRET_KEY = "sk_test_platform"
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = "whsec_test"
    nav_html.cache_clear()
    try:
        owner = login_as(cast.alice).get("/o/alpha/").content.decode()
        admin = login_as(cast.adam).get("/o/alpha/").content.decode()
        page = login_as(cast.alice).get(URL).content.decode()
    finally:
        nav_html.cache_clear()

    assert link not in off
    assert link in owner
    assert link not in admin
    assert f'class="active" aria-current="page" {link}' in page


def test_the_page_makes_the_same_number_of_queries_for_few_or_many_rows(
    cast, login_as, platform_billing, starter, django_assert_num_queries
):
    starter.stripe_price_id = "price_starter"
    starter.max_clients = starter.max_members = None
    starter.save()
    make_subscription(cast.alpha, starter, stripe_customer_id="cus_alpha")
    client = login_as(cast.alice)
    client.get(URL)  # the first request also writes the session
    for extra in (0, 4):
        for n in range(extra):
            make_plan(f"plan-{extra}-{n}", f"Plan {n}", stripe_price_id=f"price_{n}")
            client_row = make_client(cast.alpha, f"Client {extra}x{n}")
            make_document(client_row)
            make_member(cast.alpha, f"Member {extra}x{n}", Role.STAFF)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the subscription with its plan (the middleware), 6 active
        # members, 7 open invitations, 8 clients not archived, 9 stored bytes,
        # 10 the plans on offer (the panel), 11 reset the RLS context.
        with django_assert_num_queries(11):
            assert client.get(URL).status_code == 200


def test_the_data_page_says_leaving_does_not_cancel_the_subscription(
    cast, login_as, platform_billing, starter
):
    html = login_as(cast.alice).get("/o/alpha/data/").content.decode()

    assert "does not cancel its AdvisorOS subscription" in html


def test_without_billing_the_data_page_says_nothing_of_a_subscription(cast, login_as):
    html = login_as(cast.alice).get("/o/alpha/data/").content.decode()

    assert 'data-testid="offboarding-subscription"' not in html
