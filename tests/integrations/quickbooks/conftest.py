"""The QuickBooks cast: the Intuit stand-in (tests/standins/intuit.py) with a
company for Alpha's own books (realm 1001) and one for Jane's (realm 2002);
`connect` runs the real OAuth flow through the services (a session of its own,
the stand-in's consent, the code traded by intuitlib)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as HttpClient

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import QuickBooksConnection, SyncRun
from integrations.quickbooks.services import connect_finish, connect_start
from integrations.quickbooks.sync import quickbooks_sync_run
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


def sync(connection: QuickBooksConnection, **options) -> SyncRun:
    """One sync run of `connection`, in its firm's context, as the job runs it."""
    with tenant_context(connection.organization):
        run = quickbooks_sync_run(connection=connection, **options)
    assert run is not None
    return run


@pytest.fixture
def fast_retries(settings):
    """Retries without the production waits (Retry-After still honoured)."""
    settings.QUICKBOOKS_BACKOFF_SECONDS = 0.0
    settings.QUICKBOOKS_MAX_WAIT_SECONDS = 0.5


WEBHOOK_URL = "/webhooks/quickbooks/"


@pytest.fixture
def deliver(intuit_standin, django_capture_on_commit_callbacks):
    """Post through Django's test client; what the request queued on commit
    (the job, in django-q2's sync mode) runs."""
    http = HttpClient()
    answers = []

    def target(body: bytes, headers: dict[str, str]) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            response = http.post(
                WEBHOOK_URL,
                data=body,
                content_type="application/json",
                headers={"intuit-signature": headers["intuit-signature"]},
            )
        answers.append(response)
        return response.status_code

    def send(events, **options) -> int:
        return intuit_standin.post_webhook(target, events, **options)

    send.answers = answers
    return send
