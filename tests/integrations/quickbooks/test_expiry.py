"""The daily check: a refresh token near its rolling expiry is renewed by a
refresh; one near its hard expiry (five years after consent) is announced to
the firm's owners and admins once."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import QuickBooksConnection
from integrations.quickbooks.tasks import quickbooks_expiry_check
from tests.integrations.quickbooks.conftest import FIRM_REALM, reload


def set_expiries(connection, **fields) -> None:
    with tenant_context(connection.organization):
        QuickBooksConnection.objects.filter(pk=connection.pk).update(**fields)


def test_a_hard_expiry_ahead_is_announced_once(
    cast, alpha_books, intuit_standin, run_schedule
):
    ends = timezone.now() + timedelta(days=20)
    set_expiries(alpha_books, refresh_hard_expires_at=ends)
    mail.outbox.clear()

    assert run_schedule(quickbooks_expiry_check) == 1
    assert run_schedule(quickbooks_expiry_check) == 0

    (email,) = mail.outbox
    assert sorted(email.to) == ["adam@alpha.test", "alice@alpha.test"]
    assert f"{ends:%B} {ends.day}, {ends.year}" in email.body
    assert reload(alpha_books).expiry_warned_at is not None


def test_a_rolling_expiry_ahead_is_renewed_by_a_refresh(
    cast, alpha_books, intuit_standin, run_schedule
):
    set_expiries(alpha_books, refresh_expires_at=timezone.now() + timedelta(days=3))
    mail.outbox.clear()

    assert run_schedule(quickbooks_expiry_check) == 0

    saved = reload(alpha_books)
    assert len(intuit_standin.token_requests("refresh_token")) == 1
    assert saved.refresh_token == intuit_standin.grant_for(FIRM_REALM).refresh_token
    assert saved.refresh_expires_at > timezone.now() + timedelta(days=90)
    assert mail.outbox == []


def test_nothing_due_nothing_done(cast, alpha_books, intuit_standin, run_schedule):
    assert run_schedule(quickbooks_expiry_check) == 0
    assert intuit_standin.token_requests("refresh_token") == []


def test_the_daily_check_puts_a_lost_banner_back(
    cast, alpha_books, intuit_standin, run_schedule, login_as
):
    from django.core.cache import cache

    set_expiries(alpha_books, status="reconnect")  # the cache never heard of it
    cache.clear()
    assert (
        "quickbooks-reconnect-notice"
        not in login_as(cast.alice).get("/o/alpha/").content.decode()
    )

    run_schedule(quickbooks_expiry_check)

    page = login_as(cast.alice).get("/o/alpha/").content.decode()
    assert "quickbooks-reconnect-notice" in page
