"""The client page's Ledger tab: the latest trial balances and the ways to the
ledger and its statements, in a constant number of queries."""

from __future__ import annotations

from datetime import date

import pytest

from reports.statements import add_months

pytestmark = pytest.mark.django_db

BALANCES = {("1000", "Checking", "Bank"): 100, ("4000", "Sales", "Income"): -100}


def _url(client) -> str:
    return f"/o/{client.organization.slug}/clients/{client.uuid}/?tab=ledger"


def test_the_tab_lists_the_latest_trial_balances(
    cast, login_as, acme, record, django_assert_num_queries
):
    web = login_as(cast.alice)
    web.get(_url(acme))
    for months in (1, 9):
        for i in range(months):
            record(acme, add_months(date(2025, 1, 31), i), BALANCES)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms, 5 the client with its assignees, 6 its tags, 7 its
        # latest trial balances, 8 its QuickBooks company (none: the
        # integrations.quickbooks panel), 9 reset.
        with django_assert_num_queries(9):
            response = web.get(_url(acme))
        assert response.status_code == 200
    html = response.content.decode()
    assert [tb.period_end for tb in response.context["snapshots"]][:2] == [
        date(2025, 9, 30),
        date(2025, 8, 31),
    ]
    assert len(response.context["snapshots"]) == 6
    assert f"/o/alpha/reports/clients/{acme.uuid}/balance-sheet/" in html
    assert 'data-testid="client-import-trial-balance"' in html


def test_without_a_ledger_the_tab_says_how_to_start_one(cast, login_as, acme):
    response = login_as(cast.rita).get(_url(acme))

    html = response.content.decode()
    assert 'data-testid="client-ledger-empty"' in html
    assert 'data-testid="client-import-trial-balance"' not in html
