"""The QuickBooks cast: the Intuit stand-in (tests/standins/intuit.py) with a
company for Alpha's own books (realm 1001) and one for Jane's (realm 2002);
`connect` runs the real OAuth flow through the services (a session of its own,
the stand-in's consent, the code traded by intuitlib)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import QuickBooksConnection
from integrations.quickbooks.services import connect_finish, connect_start
from tests.standins.intuit import Company, IntuitStandin

FIRM_REALM = "1001"
JANE_REALM = "2002"


def connect(
    organization, by, standin: IntuitStandin, realm: str, *, client=None
) -> QuickBooksConnection:
    session = SessionStore()
    with tenant_context(organization):
        url = connect_start(
            session=session, organization=organization, by=by, client=client
        )
        callback = standin.authorize(url, realm)
        params = dict(
            pair.split("=", 1) for pair in callback.split("?", 1)[1].split("&")
        )
        return connect_finish(
            session=session,
            organization=organization,
            by=by,
            state=params["state"],
            code=params["code"],
            realm_id=params["realmId"],
        )


def reload(connection: QuickBooksConnection) -> QuickBooksConnection:
    with tenant_context(connection.organization):
        return QuickBooksConnection.objects.get(pk=connection.pk)


@pytest.fixture
def firm_company(intuit_standin) -> Company:
    return intuit_standin.add_company(FIRM_REALM, name="Alpha Accounting LLC")


@pytest.fixture
def jane_company(intuit_standin) -> Company:
    return intuit_standin.add_company(JANE_REALM, name="Jane Doe Studio")


@pytest.fixture
def alpha_books(cast, intuit_standin, firm_company) -> QuickBooksConnection:
    """Alpha's own QuickBooks company, connected by Alice."""
    return connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM)
