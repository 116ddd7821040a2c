"""The QuickBooks cast: the Intuit stand-in (tests/standins/intuit.py) with a
company for Alpha's own books (realm 1001) and one for Jane's (realm 2002);
`connect` runs the real OAuth flow through the services (a session of its own,
the stand-in's consent, the code traded by intuitlib)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as HttpClient

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.ledger import client_ledger_pull
from integrations.quickbooks.models import QuickBooksConnection, SyncRun
from integrations.quickbooks.services import connect_finish, connect_start
from integrations.quickbooks.sync import quickbooks_sync_run
from reports.models import month_end
from reports.statements import add_months
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


# Client ledgers (integrations.quickbooks.ledger) -------------------------------------


@pytest.fixture
def jane_books(cast, jane, intuit_standin, jane_company) -> QuickBooksConnection:
    """Jane's own QuickBooks company, connected by Alice as Jane's books."""
    return connect(cast.alpha, cast.alice, intuit_standin, JANE_REALM, client=jane)


def month_day(today: date, months_back: int, day: int) -> str:
    """`day` of the month `months_back` before `today`'s, as QuickBooks dates."""
    last = add_months(month_end(today), -months_back)
    return last.replace(day=min(day, last.day)).isoformat()


def client_books(company: Company, today: date) -> dict[str, dict]:
    """A small trade business in `company`, written as journal entries for 21
    months up to `today`'s month (so two fiscal years and more, January to
    December): capital paid in 20 months back, each month a sale of 1,000 on
    account, 800 collected and 300 rent, equipment bought on a loan 13 months
    back and depreciated 100 a month for the last six full months, a cash sale
    of 500 on the current month's first day, and an inactive account with no
    balance. The objects are then dated an hour back, so a CDC request from
    now on sees only what a test changes. Returns the accounts by key."""
    new = company.add_account
    accounts = {
        "checking": new("Checking", "Bank", "Checking", number="1000"),
        "old": new("Old savings", "Bank", "Savings", number="1010", active=False),
        "receivable": new(
            "Accounts Receivable (A/R)",
            "Accounts Receivable",
            "AccountsReceivable",
            number="1200",
        ),
        "equipment": new(
            "Equipment", "Fixed Asset", "MachineryAndEquipment", number="1500"
        ),
        "depreciated": new(
            "Accumulated depreciation",
            "Fixed Asset",
            "AccumulatedDepreciation",
            number="1590",
        ),
        "loan": new("Bank loan", "Long Term Liability", "NotesPayable", number="2700"),
        "capital": new("Owner's capital", "Equity", "OwnersEquity", number="3000"),
        "retained": new(
            "Retained Earnings", "Equity", "RetainedEarnings", number="3900"
        ),
        "sales": new("Sales", "Income", "SalesOfProductIncome", number="4000"),
        "rent": new("Rent", "Expense", "RentOrLeaseOfBuildings", number="6000"),
        "depreciation": new("Depreciation", "Expense", "Depreciation", number="6100"),
    }
    a = accounts
    company.post(
        month_day(today, 20, 3),
        (a["checking"], "10000", ""),
        (a["capital"], "", "10000"),
    )
    company.post(
        month_day(today, 13, 5), (a["equipment"], "2400", ""), (a["loan"], "", "2400")
    )
    for back in range(19, 0, -1):
        company.post(
            month_day(today, back, 10),
            (a["receivable"], "1000", ""),
            (a["sales"], "", "1000"),
        )
        company.post(
            month_day(today, back, 15),
            (a["checking"], "800", ""),
            (a["receivable"], "", "800"),
        )
        company.post(
            month_day(today, back, 20),
            (a["rent"], "300", ""),
            (a["checking"], "", "300"),
        )
        if back <= 6:
            company.post(
                month_day(today, back, 28),
                (a["depreciation"], "100", ""),
                (a["depreciated"], "", "100"),
            )
    company.post(
        month_day(today, 0, 1), (a["checking"], "500", ""), (a["sales"], "", "500")
    )
    settle(company)
    return accounts


def settle(company: Company) -> None:
    """Date every object of `company` an hour back (made before the test's pulls)."""
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    for objects in company.objects.values():
        for obj in objects.values():
            obj["MetaData"] = {"CreateTime": earlier, "LastUpdatedTime": earlier}


def pull(connection: QuickBooksConnection, **options) -> SyncRun:
    """One pull of a client's ledger, in its firm's context, as the job runs it."""
    with tenant_context(connection.organization):
        run = client_ledger_pull(connection=connection, **options)
    assert run is not None
    return run
