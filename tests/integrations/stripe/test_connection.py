"""The firm's Stripe connection page: owners and admins connect with a key that
Stripe accepted (one call), paste the webhook's signing secret, choose the
methods, disconnect. Keys are stored encrypted and never shown or logged."""

from __future__ import annotations

import pytest
from django.db import connection

from advisoros.audit.models import LogEntry
from advisoros.tenancy.db import tenant_context
from integrations.stripe.models import CheckoutSession, StripeAccount, StripeEvent
from tests.integrations.stripe.builders import start

URL = "/o/alpha/integrations/stripe/"


def saved(cast) -> StripeAccount | None:
    with tenant_context(cast.alpha):
        return StripeAccount.objects.filter(organization=cast.alpha).first()


def test_an_owner_connects_with_a_key_stripe_accepts(cast, login_as, stripe_standin):
    remote = stripe_standin.add_account(name="Alpha Accounting")
    owner = login_as(cast.alice)

    response = owner.post(
        URL,
        {"secret_key": remote.secret_key, "accept_cards": "on", "accept_ach": "on"},
    )

    assert (response.status_code, response.url) == (302, URL)
    (check,) = stripe_standin.requests
    assert (check.method, check.path, check.api_key) == (
        "GET",
        "/v1/account",
        remote.secret_key,
    )
    account = saved(cast)
    assert account.secret_key == remote.secret_key
    assert account.stripe_account_id == remote.id
    assert account.key_hint == f"sk_test_…{remote.secret_key[-4:]}"
    assert account.livemode is False
    assert not account.is_ready  # no signing secret yet
    with connection.cursor() as cursor, tenant_context(cast.alpha):
        cursor.execute(
            "SELECT secret_key FROM stripe_integration_stripeaccount WHERE id = %s",
            [account.pk],
        )
        (stored,) = cursor.fetchone()
    assert remote.secret_key not in stored
    page = owner.get(URL).content.decode()
    assert f"/webhooks/stripe/{account.webhook_token}/" in page
    assert "Waiting for the webhook signing secret" in page
    assert remote.secret_key not in page


def test_a_key_stripe_refuses_is_never_saved(cast, login_as, stripe_standin):
    response = login_as(cast.alice).post(
        URL, {"secret_key": "sk_test_" + "x" * 24, "accept_cards": "on"}
    )

    assert response.status_code == 200
    assert "Stripe did not accept this secret key." in response.content.decode()
    assert saved(cast) is None


def test_something_that_is_not_a_key_is_refused_without_asking_stripe(
    cast, login_as, stripe_standin
):
    response = login_as(cast.alice).post(
        URL, {"secret_key": "pk_test_123456789", "accept_cards": "on"}
    )

    assert "This is not a Stripe secret key" in response.content.decode()
    assert stripe_standin.requests == []


def test_stripe_unreachable_says_so(cast, login_as, stripe_standin, settings):
    remote = stripe_standin.add_account()
    stripe_standin.fail_next("/v1/account", status=None, delay=1.0)
    settings.STRIPE_TIMEOUT_SECONDS = 0.3

    response = login_as(cast.alice).post(
        URL, {"secret_key": remote.secret_key, "accept_cards": "on"}
    )

    assert "Stripe could not be reached" in response.content.decode()
    assert saved(cast) is None


def test_the_signing_secret_and_methods_make_it_ready(
    cast, login_as, stripe_standin, alpha_stripe
):
    with tenant_context(cast.alpha):
        StripeAccount.objects.update(webhook_secret="", accept_ach=False)
    admin = login_as(cast.adam)
    requests_before = len(stripe_standin.requests)

    response = admin.post(
        URL,
        {"webhook_secret": alpha_stripe.remote.webhook_secret, "accept_cards": "on"},
    )

    assert response.status_code == 302
    assert len(stripe_standin.requests) == requests_before  # the key was kept
    account = saved(cast)
    assert account.is_ready
    assert (account.accept_cards, account.accept_ach) == (True, False)
    assert "Clients can pay online" in admin.get(URL).content.decode()


def test_no_method_at_all_is_refused(cast, login_as, alpha_stripe):
    response = login_as(cast.alice).post(URL, {})

    assert "Take cards, bank accounts or both" in response.content.decode()
    assert saved(cast).accept_cards is True


def test_a_bad_signing_secret_is_refused(cast, login_as, alpha_stripe):
    response = login_as(cast.alice).post(
        URL, {"webhook_secret": "not-a-secret", "accept_cards": "on"}
    )

    assert "This is not a webhook signing secret" in response.content.decode()


@pytest.mark.parametrize("who", ["mia", "sam", "rita"])
def test_only_owners_and_admins_open_the_page(cast, login_as, who, alpha_stripe):
    member = login_as(getattr(cast, who))

    assert member.get(URL).status_code == 403
    assert member.post(f"{URL}disconnect/").status_code == 403


def test_the_keys_never_reach_the_change_log(cast, login_as, alpha_stripe):
    with tenant_context(cast.alpha):
        entries = list(
            LogEntry.objects.filter(
                content_type__model="stripeaccount", organization=cast.alpha
            )
        )
    assert entries
    text = " ".join(str(e.changes) for e in entries)
    assert alpha_stripe.remote.secret_key not in text
    assert alpha_stripe.remote.webhook_secret not in text


def test_disconnecting_forgets_the_keys_and_closes_open_payment_pages(
    cast, login_as, alpha_stripe, invoice, joan
):
    session = start(invoice, joan)

    response = login_as(cast.alice).post(f"{URL}disconnect/", follow=True)

    assert "Stripe is disconnected" in response.content.decode()
    assert saved(cast) is None
    assert alpha_stripe.remote.objects[session.session_id]["status"] == "expired"
    with tenant_context(cast.alpha):
        session.refresh_from_db()
    assert session.status == CheckoutSession.Status.EXPIRED
    assert "Connect your Stripe account" in response.content.decode()


def test_the_page_lists_the_latest_events_in_constant_queries(
    cast, login_as, alpha_stripe, django_assert_num_queries
):
    def add_events(n: int, start: int) -> None:
        with tenant_context(cast.alpha):
            StripeEvent.objects.bulk_create(
                StripeEvent(
                    organization=cast.alpha,
                    event_id=f"evt_{i}",
                    type="charge.succeeded",
                    payload={},
                    status=StripeEvent.Status.IGNORED,
                )
                for i in range(start, start + n)
            )

    owner = login_as(cast.alice)
    add_events(2, 0)
    owner.get(URL)  # warm: the session, the nav
    # Queries: the session, the user, the firm with its database settings, the
    # member's firms (middleware); the Stripe account; the latest events; the
    # settings reset at the end of the request.
    with django_assert_num_queries(7):
        owner.get(URL)
    add_events(30, 2)
    with django_assert_num_queries(7):
        page = owner.get(URL).content.decode()
    assert page.count("charge.succeeded") == 10
