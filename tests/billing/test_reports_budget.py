"""Budget against actual: each engagement's budgeted hours against every minute
recorded on it, and its fixed fee against the fees billed on it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from tests.factories import make_client, write_invoice, write_time_entry

URL = "/o/alpha/billing/reports/budget/"
CSV_URL = "/o/alpha/billing/reports/budget.csv"
D = Decimal


@pytest.fixture
def period(today) -> dict:
    return {
        "period": "custom",
        "start": (today - timedelta(days=30)).isoformat(),
        "end": (today + timedelta(days=60)).isoformat(),
    }


@pytest.fixture
def budgets(cast, today, acme, birch, cedar, make_engagement):
    """Hand-computed, for engagements due from 30 days ago to 60 days ahead:

    Acme audit: 10 h budget, fee 5,000, due in 10 days. Recorded 660 minutes
      (billable, non-billable and billed alike): 11 h, 1 h over, 110%. Billed:
      a line of 2,000 less a credit note line of 300 = 1,700 (a draft's 500 and
      a void invoice's 700 are not billed); 3,300 of the fee not yet billed.
    Birch payroll: 20 h budget, no fixed fee, due in 20 days. Recorded 360
      minutes: 6 h, 14 h under, 30%. Billed 800: a line of no engagement on an
      invoice of the payroll engagement.
    Cedar trust return: no hours budget, fee 1,000, due in 5 days: nothing yet.
    Left out: an engagement with neither budget nor fee, and one due next year.
    """

    def soon(days: int):
        return today + timedelta(days=days)

    audit = make_engagement(
        acme,
        "2026 audit",
        "audit",
        fee_model="fixed",
        fee_amount="5000",
        budgeted_hours="10",
        due_date=soon(10),
    )
    payroll = make_engagement(
        birch, "Payroll", "payroll", budgeted_hours="20", due_date=soon(20)
    )
    trust = make_engagement(
        cedar,
        "Trust return",
        "business_tax",
        fee_model="fixed",
        fee_amount="1000",
        due_date=soon(5),
    )
    make_engagement(cedar, "Advice", "advisory", due_date=soon(5))
    make_engagement(acme, "Next year", "audit", budgeted_hours="99", due_date=soon(400))
    billed = write_invoice(acme, lines=[("2000", "2400", audit)], issue_date=today)
    with tenant_context(cast.alpha):
        line = billed.lines.get()
    write_time_entry(
        acme, cast.sam, minutes=400, rate="100", day=today, engagement=audit
    )
    write_time_entry(
        acme,
        cast.sam,
        minutes=200,
        rate="100",
        day=today,
        engagement=audit,
        billable=False,
    )
    write_time_entry(
        acme,
        cast.alice,
        minutes=60,
        rate="300",
        day=today,
        engagement=audit,
        invoice_line=line,
    )
    write_invoice(
        acme,
        kind="credit_note",
        credited_invoice=billed,
        lines=[("300", "0", audit)],
        issue_date=today,
    )
    write_invoice(acme, lines=[("500", "500", audit)], status="draft")
    write_invoice(acme, lines=[("700", "700", audit)], status="void", issue_date=today)
    write_time_entry(
        birch, cast.adam, minutes=360, rate="150", day=today, engagement=payroll
    )
    write_invoice(birch, engagement=payroll, lines=[("800", "800")], issue_date=today)
    return {"audit": audit, "payroll": payroll, "trust": trust}


def _figures(row) -> tuple:
    return (
        row["budget_hours"],
        row["recorded_hours"],
        row["over_hours"],
        row["hours_used"],
        row["fee"],
        row["billed"],
        row["fee_left"],
    )


def test_each_engagement_against_its_budget_furthest_over_first(
    budgets, cast, login_as, period
):
    response = login_as(cast.alice).get(URL, period)

    assert response.status_code == 200
    assert [(r["label"], r["sub"], *_figures(r)) for r in response.context["rows"]] == [
        ("2026 audit", "Acme Widgets", D("10.0"), D("11.0"), D("1.0"), D("110.0"),
         D("5000.00"), D("1700.00"), D("3300.00")),
        ("Payroll", "Birch Bakery", D("20.0"), D("6.0"), D("-14.0"), D("30.0"),
         None, D("800.00"), None),
        ("Trust return", "Cedar Trust", None, D("0.0"), None, None,
         D("1000.00"), D("0.00"), D("1000.00")),
    ]  # fmt: skip


def test_the_totals(budgets, cast, login_as, period):
    total = login_as(cast.alice).get(URL, period).context["total"]

    assert _figures(total) == (
        D("30.0"),
        D("17.0"),
        D("-13.0"),
        D("56.7"),
        D("6000.00"),
        D("2500.00"),
        D("4300.00"),  # the fees' own: the payroll's billed hours are no part
    )


def test_the_period_picks_engagements_by_due_date(budgets, cast, login_as, today):
    response = login_as(cast.alice).get(
        URL,
        {
            "period": "custom",
            "start": (today + timedelta(days=300)).isoformat(),
            "end": (today + timedelta(days=500)).isoformat(),
        },
    )

    assert [(r["label"], r["budget_hours"]) for r in response.context["rows"]] == [
        ("Next year", D("99.0"))
    ]


def test_staff_limited_to_their_clients_see_their_engagements(
    budgets, cast, login_as, period, assigned_only
):
    assigned_only()

    response = login_as(cast.sam).get(URL, period)

    assert [r["label"] for r in response.context["rows"]] == ["2026 audit"]


def test_another_firms_engagements_stay_in_it(budgets, cast, login_as, period):
    beta_client = make_client(cast.beta, "Beta Client")
    with tenant_context(cast.beta):
        from clients.services.engagements import engagement_create

        engagement_create(
            client=beta_client,
            data={
                "name": "Beta audit",
                "engagement_type": "audit",
                "fee_model": "hourly",
                "hourly_rate": "100",
                "budgeted_hours": "5",
                "due_date": budgets["audit"].due_date,
            },
        )

    alpha = login_as(cast.alice).get(URL, period)
    beta = login_as(cast.oscar).get("/o/beta/billing/reports/budget/", period)

    assert "Beta audit" not in [r["label"] for r in alpha.context["rows"]]
    assert [r["label"] for r in beta.context["rows"]] == ["Beta audit"]


def test_the_page_links_each_engagement_and_draws_the_hours(
    budgets, cast, login_as, period
):
    html = login_as(cast.alice).get(URL, period).content.decode()

    assert f'href="/o/alpha/engagements/{budgets["audit"].uuid}/"' in html
    assert 'role="img"' in html and "Hours: budgeted and recorded" in html
    assert 'class="report-over"' in html  # the audit is over its budget


def test_the_page_costs_the_same_queries_for_three_engagements_or_sixty(
    budgets, cast, login_as, period, django_assert_num_queries, make_engagement, today
):
    http = login_as(cast.alice)
    http.get(URL, period)
    for extra in (0, 57):
        for i in range(extra):
            engagement = make_engagement(
                budgets["audit"].client,
                f"Job {i}",
                "advisory",
                budgeted_hours="1",
                due_date=today,
            )
            write_time_entry(
                engagement.client,
                cast.sam,
                minutes=30,
                rate="100",
                day=today,
                engagement=engagement,
            )
        # 1 session, 2 user, 3 the firm (entered in its RLS context), 4 the
        # member's firms, 5 the firm's currency, 6 the engagements with their
        # recorded minutes and billed fees (subqueries), grouped, with the
        # totals row and the names, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = http.get(URL, period)
        assert response.status_code == 200
    assert len(response.context["rows"]) == 50


def test_the_csv(budgets, cast, login_as, period):
    response = login_as(cast.alice).get(CSV_URL, period)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows == [
        ["engagement", "client", "budgeted hours", "recorded hours",
         "hours over budget", "fixed fee", "billed", "fee not yet billed"],
        ["Total", "", "30.0", "17.0", "-13.0", "6000.00", "2500.00", "4300.00"],
        ["2026 audit", "Acme Widgets", "10.0", "11.0", "1.0", "5000.00", "1700.00",
         "3300.00"],
        ["Payroll", "Birch Bakery", "20.0", "6.0", "-14.0", "", "800.00", ""],
        ["Trust return", "Cedar Trust", "", "0.0", "", "1000.00", "0.00", "1000.00"],
    ]  # fmt: skip
