"""Disconnecting revokes our access at Intuit, then forgets the tokens (the
row stays, marked disconnected, for the sync's history)."""

from __future__ import annotations

import json

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.tokens import NeedsReconnect
from tests.integrations.quickbooks.conftest import FIRM_REALM, reload

URL = "/o/alpha/integrations/quickbooks/"


def test_disconnect_revokes_at_intuit_then_forgets(
    cast, alpha_books, intuit_standin, login_as
):
    refresh = alpha_books.refresh_token

    response = login_as(cast.alice).post(
        f"{URL}{alpha_books.uuid}/disconnect/", follow=True
    )

    assert "Intuit revoked our access" in response.content.decode()
    (revoke,) = intuit_standin.requests_to("/oauth2/v1/tokens/revoke")
    assert json.loads(revoke.body) == {"token": refresh}
    assert intuit_standin.grant_for(FIRM_REALM).revoked
    saved = reload(alpha_books)
    assert (saved.status, saved.access_token, saved.refresh_token) == (
        "disconnected",
        "",
        "",
    )
    assert saved.realm_id == FIRM_REALM
    with tenant_context(cast.alpha):
        try:
            QuickBooksClient(saved).company_info()
        except NeedsReconnect:
            pass
        else:
            raise AssertionError("a disconnected company was called")


def test_intuit_unreachable_still_forgets_and_says_what_to_do(
    cast, alpha_books, intuit_standin, login_as
):
    intuit_standin.fail_next("/oauth2/v1/tokens/revoke", status=503)

    response = login_as(cast.alice).post(
        f"{URL}{alpha_books.uuid}/disconnect/", follow=True
    )

    assert "remove AdvisorOS under Apps in QuickBooks" in response.content.decode()
    assert reload(alpha_books).refresh_token == ""


def test_another_firms_connection_is_not_found(
    cast, alpha_books, intuit_standin, login_as
):
    response = login_as(cast.oscar).post(
        f"/o/beta/integrations/quickbooks/{alpha_books.uuid}/disconnect/"
    )

    assert response.status_code == 404
    assert reload(alpha_books).status == "connected"
    assert intuit_standin.requests_to("/oauth2/v1/tokens/revoke") == []


def test_a_manager_cannot_disconnect(cast, alpha_books, login_as):
    response = login_as(cast.mia).post(f"{URL}{alpha_books.uuid}/disconnect/")

    assert response.status_code == 403
    assert reload(alpha_books).status == "connected"
