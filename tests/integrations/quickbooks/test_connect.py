"""Connecting a QuickBooks company over OAuth: the connection page's button,
Intuit's consent (the stand-in), the redirect back with a state tied to the
session and the firm, the code traded for tokens by intuitlib, the tokens
stored encrypted. A wrong state stores nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.db import connection as db

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import ConnectionKind, QuickBooksConnection
from integrations.quickbooks.services import WRONG_STATE
from tests.integrations.quickbooks.conftest import FIRM_REALM, JANE_REALM, connect

URL = "/o/alpha/integrations/quickbooks/"


def connections(org) -> list[QuickBooksConnection]:
    with tenant_context(org):
        return list(QuickBooksConnection.objects.filter(organization=org))


def start(client, data=None):
    response = client.post(URL + "connect/", data or {"target": "firm"})
    assert response.status_code == 302
    return response.url


def test_an_owner_connects_the_firms_books_end_to_end(
    cast, login_as, intuit_standin, firm_company
):
    owner = login_as(cast.alice)

    consent = start(owner)
    assert consent.startswith(intuit_standin.url + "/connect/oauth2?")
    query = parse_qs(urlsplit(consent).query)
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [
        "http://testserver/integrations/quickbooks/callback/"
    ]
    back = intuit_standin.authorize(consent, FIRM_REALM)
    # Intuit's redirect lands on the one registered address, which sends the
    # browser on to the firm's own page.
    bounce = owner.get(back.removeprefix("http://testserver"))
    assert bounce.status_code == 302
    assert bounce.url.startswith(URL + "callback/?")
    done = owner.get(bounce.url, follow=True)

    assert "QuickBooks connected: Alpha Accounting LLC." in done.content.decode()
    (saved,) = connections(cast.alpha)
    assert (saved.kind, saved.realm_id, saved.status) == (
        "firm",
        FIRM_REALM,
        "connected",
    )
    assert saved.company_name == "Alpha Accounting LLC"
    assert saved.connected_by_id == cast.alice.pk
    grant = intuit_standin.grant_for(FIRM_REALM)
    assert saved.refresh_token == grant.refresh_token
    assert saved.access_token in intuit_standin.access
    assert saved.refresh_hard_expires_at is not None
    assert saved.refresh_expires_at is not None
    (exchange,) = intuit_standin.token_requests("authorization_code")
    assert exchange.headers["x-include-refresh-token-hard-expires-in"] == "true"
    with db.cursor() as cursor, tenant_context(cast.alpha):
        cursor.execute(
            "SELECT access_token, refresh_token FROM quickbooks_quickbooksconnection"
            " WHERE id = %s",
            [saved.pk],
        )
        stored = cursor.fetchone()
    assert saved.access_token not in stored[0]
    assert saved.refresh_token not in stored[1]
    page = done.content.decode()
    assert saved.refresh_token not in page and saved.access_token not in page


def test_a_wrong_state_stores_nothing(cast, login_as, intuit_standin, firm_company):
    owner = login_as(cast.alice)
    back = intuit_standin.authorize(start(owner), FIRM_REALM)
    forged = back.replace("state=", "state=x")

    response = owner.get(forged.removeprefix("http://testserver"), follow=True)

    assert WRONG_STATE in response.content.decode()
    assert connections(cast.alpha) == []
    assert intuit_standin.token_requests() == []


def test_a_state_is_good_once(cast, login_as, intuit_standin, firm_company):
    owner = login_as(cast.alice)
    back = intuit_standin.authorize(start(owner), FIRM_REALM)
    bounce = owner.get(back.removeprefix("http://testserver")).url
    owner.get(bounce)

    again = owner.get(bounce, follow=True)

    assert WRONG_STATE in again.content.decode()
    assert len(intuit_standin.token_requests("authorization_code")) == 1


def test_a_state_started_for_another_firm_is_refused_on_this_firms_page(
    cast, login_as, intuit_standin, firm_company
):
    from advisoros.tenancy.models import Membership, Role

    with tenant_context(cast.beta):
        Membership.objects.create(
            organization=cast.beta, user=cast.alice, role=Role.OWNER
        )
    owner = login_as(cast.alice)
    back = intuit_standin.authorize(start(owner), FIRM_REALM)
    query = back.split("?", 1)[1]

    response = owner.get(
        f"/o/beta/integrations/quickbooks/callback/?{query}", follow=True
    )

    assert WRONG_STATE in response.content.decode()
    assert connections(cast.alpha) == [] and connections(cast.beta) == []


def test_another_person_cannot_finish_someone_elses_sign_in(
    cast, login_as, client, intuit_standin, firm_company
):
    back = intuit_standin.authorize(start(login_as(cast.alice)), FIRM_REALM)
    query = back.split("?", 1)[1]
    client.logout()

    response = login_as(cast.adam).get(f"{URL}callback/?{query}", follow=True)

    assert WRONG_STATE in response.content.decode()
    assert connections(cast.alpha) == []


def test_a_cancelled_consent_stores_nothing(cast, login_as, intuit_standin):
    owner = login_as(cast.alice)
    start(owner)

    response = owner.get(URL + "callback/?error=access_denied&state=x", follow=True)

    assert "the sign-in was cancelled" in response.content.decode()
    assert connections(cast.alpha) == []


def test_a_clients_books_are_connected_by_the_clients_code(
    cast, jane, login_as, intuit_standin, jane_company
):
    owner = login_as(cast.alice)
    consent = start(owner, {"target": "client", "client_code": jane.client_code})
    bounce = owner.get(
        intuit_standin.authorize(consent, JANE_REALM).removeprefix("http://testserver")
    )

    owner.get(bounce.url)

    (saved,) = connections(cast.alpha)
    assert (saved.kind, saved.client_id, saved.realm_id) == (
        "client",
        jane.pk,
        JANE_REALM,
    )
    page = owner.get(URL).content.decode()
    assert "Jane Doe Studio" in page


def test_an_unknown_client_code_goes_nowhere(cast, login_as, intuit_standin):
    response = login_as(cast.alice).post(
        URL + "connect/", {"target": "client", "client_code": "NOPE"}, follow=True
    )

    assert "No client has the code" in response.content.decode()
    assert intuit_standin.requests == []


def test_a_company_is_connected_once_per_firm(
    cast, jane, intuit_standin, firm_company, alpha_books
):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already connected as the firm's own"):
        connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM, client=jane)

    assert [c.kind for c in connections(cast.alpha)] == [ConnectionKind.FIRM]


def test_another_firm_may_connect_the_same_company(
    cast, intuit_standin, firm_company, alpha_books
):
    theirs = connect(cast.beta, cast.oscar, intuit_standin, FIRM_REALM)

    assert theirs.organization == cast.beta
    assert [c.pk for c in connections(cast.alpha)] == [alpha_books.pk]


def test_with_no_keys_the_button_is_disabled_and_says_how(cast, login_as, settings):
    settings.INTUIT_CLIENT_ID = ""
    owner = login_as(cast.alice)

    page = owner.get(URL).content.decode()
    response = owner.post(URL + "connect/", {"target": "firm"}, follow=True)

    assert 'data-testid="quickbooks-off"' in page
    assert "INTUIT_CLIENT_ID" in page
    assert 'data-testid="quickbooks-connect-firm" disabled' in page.replace(
        'type="submit" disabled data-testid="quickbooks-connect-firm"',
        'data-testid="quickbooks-connect-firm" disabled',
    )
    assert "QuickBooks is not turned on" in response.content.decode()


def test_staff_cannot_open_the_page(cast, login_as):
    assert login_as(cast.sam).get(URL).status_code == 403


def test_a_return_from_intuit_with_no_session_says_so(client, intuit_standin):
    response = client.get(
        "/integrations/quickbooks/callback/?code=c&state=s&realmId=1", follow=True
    )

    assert WRONG_STATE in response.content.decode()
    assert intuit_standin.token_requests() == []
