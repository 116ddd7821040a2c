"""A connection's access token: refreshed when due, one refresh at a time per
connection (two workers at once: one refresh at Intuit, both go on with the new
token), the newest refresh token always stored; Intuit's invalid_grant turns
the connection to "reconnect" with a banner and one email."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection as db
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.models import QuickBooksConnection
from integrations.quickbooks.tokens import NeedsReconnect, connection_access_token
from tests.integrations.quickbooks.conftest import FIRM_REALM, connect, reload


def expire(connection: QuickBooksConnection) -> None:
    with tenant_context(connection.organization):
        QuickBooksConnection.objects.filter(pk=connection.pk).update(
            access_expires_at=timezone.now() - timedelta(minutes=1)
        )


def test_a_fresh_token_is_used_as_it_is(alpha_books, intuit_standin):
    with tenant_context(alpha_books.organization):
        token = connection_access_token(alpha_books)

    assert token == alpha_books.access_token
    assert intuit_standin.token_requests("refresh_token") == []


def test_a_due_token_is_refreshed_and_the_new_refresh_token_kept(
    alpha_books, intuit_standin
):
    first_refresh = alpha_books.refresh_token
    expire(alpha_books)
    stale = reload(alpha_books)

    with tenant_context(stale.organization):
        token = connection_access_token(stale)

    saved = reload(alpha_books)
    assert len(intuit_standin.token_requests("refresh_token")) == 1
    assert token == saved.access_token != alpha_books.access_token
    assert saved.refresh_token == intuit_standin.grant_for(FIRM_REALM).refresh_token
    assert saved.refresh_token != first_refresh
    assert saved.access_expires_at > timezone.now() + timedelta(minutes=50)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_make_one_refresh(
    cast, intuit_standin, firm_company
):
    books = connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM)
    expire(books)
    # Intuit takes its time: the second worker arrives while the first waits.
    intuit_standin.fail_next("/oauth2/v1/tokens/bearer", status=None, delay=0.5)
    start = threading.Barrier(2)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with tenant_context(cast.alpha):
                mine = QuickBooksConnection.objects.get(pk=books.pk)  # its own copy
                start.wait()
                tokens.append(connection_access_token(mine))
                # ... and goes on to call the API with it.
                QuickBooksClient(mine).company_info()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    saved = reload(books)
    assert len(intuit_standin.token_requests("refresh_token")) == 1
    assert tokens == [saved.access_token, saved.access_token]
    assert saved.refresh_token == intuit_standin.grant_for(FIRM_REALM).refresh_token
    company_calls = intuit_standin.requests_to(f"/v3/company/{FIRM_REALM}/companyinfo")
    assert [r.status for r in company_calls][-2:] == [200, 200]


def test_a_401_refreshes_once_and_goes_on(alpha_books, intuit_standin):
    intuit_standin.expire_access_tokens()  # dead before its time

    with tenant_context(alpha_books.organization):
        info = QuickBooksClient(alpha_books).company_info()

    assert info["CompanyName"] == "Alpha Accounting LLC"
    assert len(intuit_standin.token_requests("refresh_token")) == 1
    calls = intuit_standin.requests_to(f"/v3/company/{FIRM_REALM}/companyinfo")
    assert [r.status for r in calls] == [200, 401, 200]  # the connect's, then ours


def test_invalid_grant_turns_the_connection_to_reconnect_with_banner_and_one_email(
    cast, alpha_books, intuit_standin, login_as, django_capture_on_commit_callbacks
):
    intuit_standin.revoke_company(FIRM_REALM)  # the company disconnected our app
    expire(alpha_books)
    mail.outbox.clear()

    for _ in range(2):
        stale = reload(alpha_books)
        with (
            django_capture_on_commit_callbacks(execute=True),
            tenant_context(cast.alpha),
            pytest.raises(NeedsReconnect),
        ):
            QuickBooksClient(stale).company_info()

    saved = reload(alpha_books)
    assert saved.status == "reconnect"
    assert "Sign in to QuickBooks again" in saved.last_error
    (email,) = mail.outbox
    assert sorted(email.to) == ["adam@alpha.test", "alice@alpha.test"]
    assert "/o/alpha/integrations/quickbooks/" in email.body
    # One refresh tried: the second call saw "reconnect" and did not ask Intuit.
    assert len(intuit_standin.token_requests("refresh_token")) == 1
    owner_page = login_as(cast.alice).get("/o/alpha/").content.decode()
    assert 'data-testid="quickbooks-reconnect-notice"' in owner_page
    assert "Reconnect QuickBooks" in owner_page
    staff_page = login_as(cast.sam).get("/o/alpha/clients/").content.decode()
    assert "An owner or admin of the firm can reconnect it." in staff_page
    beta_page = login_as(cast.oscar).get("/o/beta/").content.decode()
    assert "quickbooks-reconnect-notice" not in beta_page


def test_reconnecting_clears_the_banner_and_the_email_mark(
    cast, alpha_books, intuit_standin, login_as, django_capture_on_commit_callbacks
):
    intuit_standin.revoke_company(FIRM_REALM)
    expire(alpha_books)
    with (
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(cast.alpha),
        pytest.raises(NeedsReconnect),
    ):
        connection_access_token(reload(alpha_books))

    with django_capture_on_commit_callbacks(execute=True):
        again = connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM)

    assert again.pk == alpha_books.pk
    saved = reload(alpha_books)
    assert (saved.status, saved.reconnect_emailed_at) == ("connected", None)
    page = login_as(cast.alice).get("/o/alpha/").content.decode()
    assert "quickbooks-reconnect-notice" not in page


def test_intuit_unreachable_changes_nothing(alpha_books, intuit_standin):
    from integrations.quickbooks.tokens import TokenRefreshFailed

    expire(alpha_books)
    intuit_standin.fail_next("/oauth2/v1/tokens/bearer", status=503)

    with tenant_context(alpha_books.organization), pytest.raises(TokenRefreshFailed):
        connection_access_token(reload(alpha_books))

    saved = reload(alpha_books)
    assert (saved.status, saved.refresh_token) == (
        "connected",
        alpha_books.refresh_token,
    )


def test_intuit_slower_than_the_timeout_fails_fast(
    alpha_books, intuit_standin, settings
):
    import time

    from integrations.quickbooks.tokens import TokenRefreshFailed

    settings.QUICKBOOKS_TIMEOUT_SECONDS = 0.3
    expire(alpha_books)
    intuit_standin.fail_next("/oauth2/v1/tokens/bearer", status=503, delay=2.0)

    began = time.monotonic()
    with tenant_context(alpha_books.organization), pytest.raises(TokenRefreshFailed):
        connection_access_token(reload(alpha_books))

    assert time.monotonic() - began < 1.5
    assert reload(alpha_books).status == "connected"
