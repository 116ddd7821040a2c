"""A client's QuickBooks company on its Ledger tab and on the QuickBooks page:
the last pull, the months refused, Pull now (staff and up), how to connect."""

from __future__ import annotations

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import SyncRun
from reports.models import month_end
from reports.statements import add_months
from tests.integrations.quickbooks.conftest import client_books, pull
from tests.standins.intuit import IntuitStandin

PAGE = "/o/alpha/integrations/quickbooks/"


@pytest.fixture(autouse=True)
def short_window(settings):
    settings.QUICKBOOKS_LEDGER_MONTHS = 1


def tab(client) -> str:
    return f"/o/alpha/clients/{client.uuid}/?tab=ledger"


def pull_now(client) -> str:
    return f"{PAGE}clients/{client.uuid}/pull/"


def test_the_ledger_tab_shows_the_last_pull_and_the_months_refused(
    cast, jane, jane_books, jane_company, login_as, django_assert_num_queries
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    bad = add_months(month_end(today), -1)
    jane_company.reports[f"TrialBalance:{bad.isoformat()}"] = (
        IntuitStandin.trial_balance_report(
            [(accounts["checking"]["Id"], "Checking", "10.00", "")],
            end=bad.isoformat(),
        )
    )
    pull(jane_books)
    web = login_as(cast.sam)
    web.get(tab(jane))

    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
    # member's firms, 5 the client with its assignees, 6 its tags, 7 its
    # latest trial balances, 8 its QuickBooks company, 9 that company's latest
    # pull, 10 reset.
    with django_assert_num_queries(10):
        html = web.get(tab(jane)).content.decode()

    assert 'data-testid="client-ledger-quickbooks"' in html
    assert "Jane Doe Studio" in html
    assert "1 month refused" in html
    assert f"{bad:%B %Y}: The trial balance does not balance" in html
    assert 'data-testid="quickbooks-ledger-pull-now"' in html


def test_pull_now_queues_a_pull_and_returns_to_the_tab(
    cast, jane, jane_books, jane_company, login_as, django_capture_on_commit_callbacks
):
    client_books(jane_company, firm_today(cast.alpha))

    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.sam).post(pull_now(jane))

    assert response.status_code == 302
    assert response.url == tab(jane)
    with tenant_context(cast.alpha):
        [run] = SyncRun.objects.filter(connection=jane_books)
    assert run.status == SyncRun.Status.SUCCEEDED


def test_read_only_members_see_the_pulls_but_cannot_pull(
    cast, jane, jane_books, login_as
):
    web = login_as(cast.rita)

    html = web.get(tab(jane)).content.decode()

    assert "Jane Doe Studio" in html
    assert 'data-testid="quickbooks-ledger-pull-now"' not in html
    assert web.post(pull_now(jane)).status_code == 403


def test_pull_now_without_a_connection_says_who_connects_it(cast, jane, login_as):
    response = login_as(cast.sam).post(pull_now(jane), follow=True)

    assert "is not connected: an owner or admin connects it" in (
        response.content.decode()
    )


def test_the_quickbooks_page_shows_each_client_ledgers_pull(
    cast, jane, jane_books, jane_company, login_as, django_capture_on_commit_callbacks
):
    client_books(jane_company, firm_today(cast.alpha))
    pull(jane_books)
    owner = login_as(cast.alice)

    html = owner.get(PAGE).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        back = owner.post(pull_now(jane), {"back": "connection"})

    assert 'data-testid="quickbooks-ledger-health"' in html
    assert "2 months recorded" in html
    assert back.url == PAGE
    with tenant_context(cast.alpha):
        assert SyncRun.objects.filter(connection=jane_books).count() == 2


def test_without_intuit_keys_the_tab_says_how_to_turn_quickbooks_on(
    cast, jane, login_as, settings
):
    settings.INTUIT_CLIENT_ID = ""

    owner = login_as(cast.alice).get(tab(jane)).content.decode()
    staff = login_as(cast.sam).get(tab(jane)).content.decode()

    assert 'disabled aria-describedby="client-ledger-quickbooks-off"' in owner
    assert "INTUIT_CLIENT_ID" in owner
    assert "An owner or admin of the firm connects it" in staff
    assert 'data-testid="client-ledger-connect"' not in staff


def test_the_connect_button_leads_to_the_quickbooks_page_with_the_code(
    cast, jane, login_as, intuit_standin
):
    owner = login_as(cast.alice)

    html = owner.get(tab(jane)).content.decode()
    page = owner.get(f"{PAGE}?client_code={jane.client_code}").content.decode()

    assert f"{PAGE}?client_code={jane.client_code}#quickbooks-clients" in html
    assert f'name="client_code" maxlength="20" value="{jane.client_code}"' in page


def test_what_stopped_a_pull_is_shown_before_its_months_refused(
    cast,
    jane,
    jane_books,
    jane_company,
    intuit_standin,
    login_as,
    fast_retries,
    settings,
):
    settings.QUICKBOOKS_LEDGER_MONTHS = 6
    client_books(jane_company, firm_today(cast.alpha))
    # Every month's report is refused (it does not balance), then Intuit fails.
    jane_company.reports["TrialBalance"] = IntuitStandin.trial_balance_report(
        [("1", "Checking", "10.00", "")]
    )
    intuit_standin.fail_next(
        "/v3/company/2002/reports/TrialBalance", status=503, times=5, after=6
    )
    run = pull(jane_books)
    web = login_as(cast.alice)

    html = web.get(tab(jane)).content.decode()

    assert run.status == SyncRun.Status.FAILED
    assert len(run.errors) == 7
    assert "Failed" in html
    # The reason it stopped, among the five errors the tab lists.
    shown = html.split('data-testid="quickbooks-ledger-errors"')[1].split("</ul>")[0]
    assert "503" in shown
