"""The statement pages: each statement as HTML with its period and comparison
pickers, an empty state for a period with no data, a constant number of
queries whatever the size of the ledger, and a client the member may not see
answers 404."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from reports.demo import demo_trial_balances
from reports.models import LedgerAccount
from reports.services import AccountData, BalanceRow, trial_balance_record
from tests.factories import make_client

pytestmark = pytest.mark.django_db

STATEMENTS = ["profit_and_loss", "balance_sheet", "cash_flow", "trial_balance"]


def _url(name: str, client) -> str:
    return reverse(
        f"reports:{name}",
        kwargs={"org_slug": client.organization.slug, "client_uuid": client.uuid},
    )


def _load(client, months: int, extra_accounts: int = 0) -> None:
    """The demo business's books for `months` month-ends to Dec 2026, with
    `extra_accounts` more expense accounts (zero-sum pairs) on every one."""
    with tenant_context(client.organization):
        for day, rows in demo_trial_balances(last=date(2026, 12, 31), months=months):
            balance_rows = [
                BalanceRow(AccountData(name, kind, number=number, subtype=sub), dr, cr)
                for number, name, kind, sub, dr, cr in rows
            ]
            for i in range(extra_accounts):
                balance_rows.append(
                    BalanceRow(
                        AccountData(f"Expense {i}", "Expense", number=f"9{i:04d}"),
                        debit=10 + i,
                    )
                )
                balance_rows.append(
                    BalanceRow(
                        AccountData(
                            f"Accrual {i}",
                            "Other Current Liability",
                            number=f"8{i:04d}",
                        ),
                        credit=10 + i,
                    )
                )
            trial_balance_record(
                client=client, period_end=day, rows=balance_rows, source="csv", raw=[]
            )


@pytest.mark.parametrize("name", STATEMENTS)
def test_each_statement_shows_the_latest_month_with_its_comparisons(
    cast, login_as, acme, name
):
    _load(acme, 14)

    response = login_as(cast.rita).get(_url(name, acme))

    assert response.status_code == 200
    report = response.context["report"]
    assert report.has_data
    assert response.context["end"] == date(2026, 12, 31)
    assert [c.available for c in report.columns] == [True, True, True]
    assert all(check in (True, None) for check in report.checks)
    html = response.content.decode()
    assert 'data-testid="statement"' in html
    assert report.columns[0].label in ("Dec 2026", "Dec 31, 2026")
    assert f">{report.columns[0].label}</th>" in html


@pytest.mark.parametrize("name", STATEMENTS)
def test_a_period_with_no_data_says_so(cast, login_as, acme, name):
    _load(acme, 3)

    response = login_as(cast.rita).get(_url(name, acme), {"end": "2025-06-30"})

    assert response.status_code == 200
    assert not response.context["report"].has_data
    assert "No data for this period" in response.content.decode()


def test_a_client_without_a_ledger_shows_the_empty_state(cast, login_as, acme):
    response = login_as(cast.rita).get(_url("balance_sheet", acme))

    assert response.status_code == 200
    assert response.context["report"] is None
    assert "has no trial balance yet" in response.content.decode()


def test_the_pickers_choose_the_period_and_the_comparison(cast, login_as, acme):
    _load(acme, 14)

    response = login_as(cast.rita).get(
        _url("profit_and_loss", acme),
        {"end": "2026-11-30", "period": "quarter", "compare": "prior_year"},
    )

    columns = response.context["report"].columns
    assert [(c.span.start, c.span.end) for c in columns] == [
        (date(2026, 9, 1), date(2026, 11, 30)),
        (date(2025, 9, 1), date(2025, 11, 30)),
    ]
    assert [c.available for c in columns] == [True, False]
    assert "no data for this period" in response.content.decode()
    # The other statements' tabs keep the choice.
    assert "end=2026-11-30&amp;period=quarter&amp;compare=prior_year" in (
        response.content.decode()
    )


@pytest.mark.parametrize("name", STATEMENTS)
def test_the_query_count_does_not_grow_with_the_ledger(
    cast, login_as, acme, django_assert_num_queries, name
):
    http = login_as(cast.alice)
    http.get(_url(name, acme))  # settles the session's first-visit writes
    for months, extra in ((3, 0), (14, 40)):
        other = make_client(cast.alpha, f"Client {months}")
        _load(other, months, extra)
        # 1 session, 2 user, 3 the firm in its RLS context, 4 the member's firms,
        # 5 the client, 6 its snapshots' dates, 7 the statement's files, 8 the
        # client's template (else the firm's default), 9 the needed snapshots'
        # lines, 10 their accounts, 11 reset the RLS context.
        with django_assert_num_queries(11):
            response = http.get(_url(name, other))
        assert response.status_code == 200
        assert response.context["report"].has_data


def test_the_ledger_page_lists_snapshots_accounts_and_imports(
    cast, login_as, acme, django_assert_num_queries
):
    _load(acme, 3)
    http = login_as(cast.alice)
    http.get(_url("ledger_detail", acme))

    # 1 session, 2 user, 3 the firm, 4 the member's firms, 5 the client,
    # 6 its snapshots with who recorded them, 7 its accounts, 8 its imports,
    # 9 reset the RLS context.
    with django_assert_num_queries(9):
        response = http.get(_url("ledger_detail", acme))

    assert len(response.context["snapshots"]) == 3
    with tenant_context(cast.alpha):
        assert len(response.context["accounts"]) == LedgerAccount.objects.count()
    assert 'data-testid="import-link"' in response.content.decode()


def test_the_index_lists_the_clients_with_ledgers_and_finds_others(
    cast, login_as, acme, django_assert_num_queries
):
    _load(acme, 2)
    make_client(cast.alpha, "Acme Holdings")
    http = login_as(cast.alice)
    url = reverse("reports:ledger_index", kwargs={"org_slug": "alpha"})
    http.get(url)

    # 1 session, 2 user, 3 the firm, 4 the member's firms, 5 the ledgers with
    # their counts, 6 reset the RLS context.
    with django_assert_num_queries(6):
        response = http.get(url)
    found = http.get(url, {"q": "acme"})

    assert [row["client__display_name"] for row in response.context["ledgers"]] == [
        "Acme Trading"
    ]
    assert response.context["ledgers"][0]["snapshots"] == 2
    assert [c.display_name for c in found.context["found"]] == [
        "Acme Holdings",
        "Acme Trading",
    ]


def test_staff_limited_to_their_clients_see_only_those(cast, login_as, acme):
    other = make_client(cast.alpha, "Other Co")
    _load(acme, 1)
    _load(other, 1)
    with tenant_context(cast.alpha):
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    http = login_as(cast.sam)

    index = http.get(reverse("reports:ledger_index", kwargs={"org_slug": "alpha"}))

    assert [r["client__display_name"] for r in index.context["ledgers"]] == [
        "Acme Trading"
    ]
    assert http.get(_url("balance_sheet", other)).status_code == 404
    assert http.get(_url("ledger_detail", other)).status_code == 404
    assert http.get(_url("balance_sheet", acme)).status_code == 200


def test_another_firms_client_is_not_found(cast, login_as, acme):
    _load(acme, 1)

    http = login_as(cast.oscar)

    for name in [*STATEMENTS, "ledger_detail"]:
        assert (
            http.get(_url(name, acme).replace("/alpha/", "/beta/")).status_code == 404
        )


def test_account_names_are_shown_as_text_never_as_html(cast, login_as, acme, record):
    record(
        acme,
        date(2026, 1, 31),
        {
            ("1000", "<script>alert(1)</script> & Co", "Bank"): 5,
            ("4000", "<b>Sales</b>", "Income"): -5,
        },
    )
    shown = {
        "profit_and_loss": "4000 · &lt;b&gt;Sales&lt;/b&gt;",
        "balance_sheet": "1000 · &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co",
        "trial_balance": "1000 · &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co",
    }

    for name, text in shown.items():
        html = login_as(cast.rita).get(_url(name, acme)).content.decode()

        assert "<script>alert(1)" not in html
        assert "<b>Sales" not in html
        assert text in html, name


def test_each_figure_has_its_account_as_row_header_and_buttons_say_what_they_build(
    cast, login_as, acme, record
):
    record(
        acme,
        date(2026, 12, 31),
        {("1000", "Checking", "Bank"): 5, ("4000", "Sales", "Income"): -5},
    )

    html = login_as(cast.sam).get(_url("balance_sheet", acme)).content.decode()

    # A screen reader names each figure by its account as well as its column.
    assert '<th scope="row" class="account level-2">1000 · Checking</th>' in html
    assert '<td class="level-' not in html
    # Two forms have a PDF button each: their names tell them apart.
    assert 'aria-label="Balance sheet: PDF"' in html
    assert 'aria-label="The package: Excel"' in html
