"""A firm's standing with its subscription (advisoros.tenancy.plans): a payment
problem makes it read-only after the grace days, with every page saying why and
the export and the Subscription page still open; good standing makes it
writable again; with the platform's billing off none of it exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import FirmExport, SubscriptionStatus
from advisoros.tenancy.plans import subscription_apply
from tests.factories import make_subscription

NEW_CLIENT = "/o/alpha/clients/new/"
CLIENT_DATA = {
    "display_name": "Read Only Test",
    "entity_type": "individual",
    "status": "active",
    "risk_level": "low",
    "fiscal_year_end_month": "12",
    "fiscal_year_end_day": "31",
    "country": "US",
}


def _days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def _notice(html: str) -> str:
    start = html.index('data-testid="subscription-notice"')
    return html[start : html.index("</div>", start)]


def _past_due(cast, starter, days: int, **fields):
    return make_subscription(
        cast.alpha,
        starter,
        status=SubscriptionStatus.PAST_DUE,
        trial_ends_at=None,
        problem_since=_days_ago(days),
        stripe_customer_id="cus_alpha",
        stripe_subscription_id="sub_alpha",
        **fields,
    )


# Past due: a warning, then read-only ------------------------------------------------


def test_a_failed_payment_warns_on_every_page_and_the_firm_still_writes(
    cast, login_as, platform_billing, starter
):
    _past_due(cast, starter, days=2)
    client = login_as(cast.sam)

    html = client.get("/o/alpha/clients/").content.decode()
    created = client.post(NEW_CLIENT, CLIENT_DATA)

    notice = _notice(html)
    assert "The last payment for the subscription failed." in notice
    assert "Update the payment method by" in notice
    assert "or Alpha Accounting becomes read-only then" in notice
    assert "An owner of the firm can update the payment." in notice
    assert created.status_code == 302


def test_after_the_grace_days_a_past_due_firm_is_read_only_and_says_why(
    cast, login_as, platform_billing, starter
):
    _past_due(cast, starter, days=8)
    client = login_as(cast.sam)

    page = client.get("/o/alpha/clients/")
    refused = client.post(NEW_CLIENT, CLIENT_DATA)

    assert page.status_code == 200
    notice = _notice(page.content.decode())
    assert "Alpha Accounting is read-only: the subscription payment failed on" in notice
    assert "Everything can still be read, downloaded and exported." in notice
    assert refused.status_code == 403
    body = refused.content.decode()
    assert 'data-testid="firm-read-only"' in body
    assert "That change was not made." in body
    assert "An owner of the firm can update the payment." in body
    with tenant_context(cast.alpha):
        from clients.models import Client

        assert not Client.objects.filter(display_name="Read Only Test").exists()


def test_a_read_only_firms_owner_still_exports_and_reaches_the_subscription_page(
    cast, login_as, platform_billing, starter, django_capture_on_commit_callbacks
):
    _past_due(cast, starter, days=30)
    client = login_as(cast.alice)

    html = client.get("/o/alpha/").content.decode()
    subscription = client.get("/o/alpha/subscription/")
    with django_capture_on_commit_callbacks():
        export = client.post("/o/alpha/data/export/")

    notice = _notice(html)
    assert 'href="/o/alpha/subscription/">Fix the payment</a>' in notice
    assert 'href="/o/alpha/data/">Export the data</a>' in notice
    assert subscription.status_code == 200
    assert 'data-testid="subscription-read-only"' in subscription.content.decode()
    assert export.status_code == 302
    with tenant_context(cast.alpha):
        assert FirmExport.objects.filter(organization=cast.alpha).count() == 1


def test_paid_again_the_firm_writes_again_and_the_notice_goes(
    cast, login_as, platform_billing, starter
):
    subscription = _past_due(cast, starter, days=30)
    with tenant_context(cast.alpha):
        subscription_apply(
            subscription=subscription,
            status=SubscriptionStatus.ACTIVE,
            current_period_end=timezone.now() + timedelta(days=30),
        )
    client = login_as(cast.sam)

    html = client.get("/o/alpha/clients/").content.decode()
    created = client.post(NEW_CLIENT, CLIENT_DATA)

    assert 'data-testid="subscription-notice"' not in html
    assert created.status_code == 302
    with tenant_context(cast.alpha):
        subscription.refresh_from_db()
    assert subscription.problem_since is None


def test_a_canceled_subscription_is_read_only_after_the_grace_days(
    cast, login_as, platform_billing, starter
):
    make_subscription(
        cast.alpha,
        starter,
        status=SubscriptionStatus.CANCELED,
        problem_since=_days_ago(10),
        stripe_subscription_id="sub_alpha",
    )
    client = login_as(cast.alice)

    notice = _notice(client.get("/o/alpha/").content.decode())
    refused = client.post(NEW_CLIENT, CLIENT_DATA)

    assert "Alpha Accounting is read-only: its subscription was canceled on" in notice
    assert ">Subscribe again</a>" in notice
    assert refused.status_code == 403


def test_the_grace_days_are_a_setting(cast, login_as, platform_billing, starter):
    platform_billing.PLATFORM_BILLING_GRACE_DAYS = 0
    _past_due(cast, starter, days=0)

    response = login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA)

    assert response.status_code == 403


# The trial ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text"),
    [(3, "The trial ends in 3 days, on"), (1, "The trial ends in 1 day, on")],
)
def test_the_trials_last_days_are_announced(
    cast, login_as, platform_billing, starter, days, text
):
    make_subscription(
        cast.alpha,
        starter,
        trial_ends_at=timezone.now() + timedelta(days=days, minutes=-5),
    )

    notice = _notice(login_as(cast.alice).get("/o/alpha/").content.decode())

    assert text in notice
    assert ">Choose a plan</a>" in notice


def test_early_in_the_trial_no_page_talks_about_it(
    cast, login_as, platform_billing, starter
):
    make_subscription(cast.alpha, starter, trial_ends_at=timezone.now() + timedelta(10))

    html = login_as(cast.alice).get("/o/alpha/").content.decode()

    assert 'data-testid="subscription-notice"' not in html


def test_a_trial_that_ended_without_a_subscription_is_read_only(
    cast, login_as, platform_billing, starter
):
    make_subscription(cast.alpha, starter, trial_ends_at=_days_ago(1))
    client = login_as(cast.sam)

    notice = _notice(client.get("/o/alpha/").content.decode())
    refused = client.post(NEW_CLIENT, CLIENT_DATA)

    assert "Alpha Accounting&#x27;s trial ended on" in notice
    assert "the firm is read-only until it subscribes" in notice
    assert "An owner of the firm can subscribe." in notice
    assert refused.status_code == 403


def test_a_trial_already_subscribed_in_stripe_is_never_locked_by_its_date(
    cast, login_as, platform_billing, starter
):
    # Stripe bills when its trial ends and says so by a webhook.
    make_subscription(
        cast.alpha, starter, trial_ends_at=_days_ago(1), stripe_subscription_id="sub_1"
    )

    response = login_as(cast.sam).post(NEW_CLIENT, CLIENT_DATA)

    assert response.status_code == 302


# The platform's billing off -------------------------------------------------------------


def test_with_billing_off_a_past_due_firm_is_neither_read_only_nor_told(
    cast, login_as, starter
):
    _past_due(cast, starter, days=30)
    client = login_as(cast.alice)

    html = client.get("/o/alpha/").content.decode()
    created = client.post(NEW_CLIENT, CLIENT_DATA)

    assert 'data-testid="subscription-notice"' not in html
    assert "/o/alpha/subscription/" not in html
    assert created.status_code == 302


def test_a_firm_page_costs_one_query_more_with_billing_on_and_none_with_it_off(
    cast, login_as, settings, starter
):
    from advisoros.nav import nav_html

    make_subscription(cast.alpha, starter)
    client = login_as(cast.sam)
    client.get("/o/alpha/clients/")  # warm: sessions, the firm's id

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/o/alpha/clients/").status_code == 200
        return len(queries)

    off = count()
    settings.PLATFORM_STRIPE_SECRET_KEY = "sk_test_platform"
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = "whsec_test"
    nav_html.cache_clear()
    on = count()
    nav_html.cache_clear()

    assert on == off + 1
