"""Work in progress: unbilled billable time at its recorded rate and draft
invoices' lines, by client, engagement and partner, aged by the work's date."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from tests.factories import make_client, write_invoice, write_time_entry

URL = "/o/alpha/billing/reports/"
CSV_URL = "/o/alpha/billing/reports/wip.csv"
D = Decimal


@pytest.fixture
def wip(cast, today, acme, birch, cedar, make_engagement):
    """Hand-computed work in progress (minutes x rate / 60, to the cent per entry):

    Acme  90 min at 200 today (2026 audit)   300.00  0-30
          45 min at 150, 30 days ago         112.50  0-30 (the band's last day)
          10 min at 100, 31 days ago          16.67  31-60 (its first day)
          draft: 500 (2026 audit) + 250      750.00  0-30
    Birch 30 min at 175, 60 days ago (payroll) 87.50 31-60 (its last day)
          120 min at 100, 91 days ago        200.00  over 90 (its first day)
    Cedar 20 min at 99.99, 61 days ago        33.33  61-90
          1 min at 0.30 today                  0.01  (0.005 rounds half up)
    Left out: non-billable and billed time, a draft credit note, issued and
    void invoices, and Beta's work.
    """
    audit = make_engagement(acme, "2026 audit", "audit")
    payroll = make_engagement(birch, "Payroll", "payroll")

    def ago(days: int):
        return today - timedelta(days=days)

    entry = write_time_entry
    entry(acme, cast.alice, minutes=90, rate="200", day=today, engagement=audit)
    entry(acme, cast.sam, minutes=45, rate="150", day=ago(30))
    entry(acme, cast.sam, minutes=10, rate="100", day=ago(31))
    entry(acme, cast.sam, minutes=60, rate="100", day=ago(61), billable=False)
    sent = write_invoice(acme, lines=[("120", "120")], issue_date=ago(80))
    with tenant_context(cast.alpha):
        billed_line = sent.lines.get()
    entry(acme, cast.sam, minutes=60, rate="120", day=ago(90), invoice_line=billed_line)
    entry(birch, cast.adam, minutes=30, rate="175", day=ago(60), engagement=payroll)
    entry(birch, cast.adam, minutes=120, rate="100", day=ago(91))
    entry(cedar, cast.mia, minutes=20, rate="99.99", day=ago(61))
    entry(cedar, cast.mia, minutes=1, rate="0.30", day=today)
    write_invoice(acme, lines=[("500", "500", audit), ("250", "250")], status="draft")
    write_invoice(birch, lines=[("40", "40")], status="draft", kind="credit_note")
    write_invoice(birch, lines=[("999", "999")], status="void", issue_date=ago(3))
    beta_client = make_client(cast.beta, "Beta Client", partner=cast.oscar)
    entry(beta_client, cast.oscar, minutes=600, rate="500", day=today)
    write_invoice(beta_client, lines=[("1000", "1000")], status="draft")
    return {"audit": audit, "payroll": payroll}


def _rows(response) -> list[tuple]:
    return [
        (row["label"], row["sub"], row["minutes"], row["time"], row["drafts"])
        for row in response.context["rows"]
    ]


def _ages(row) -> tuple:
    return (
        row["age_0_30"],
        row["age_31_60"],
        row["age_61_90"],
        row["age_over_90"],
        row["total"],
    )


def test_by_client_each_row_adds_its_time_and_drafts(wip, cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    assert _rows(response) == [
        ("Acme Widgets", "", 145, D("429.17"), D("750.00")),
        ("Birch Bakery", "", 150, D("287.50"), D("0.00")),
        ("Cedar Trust", "", 21, D("33.34"), D("0.00")),
    ]


def test_each_row_is_aged_by_the_works_date_at_the_band_edges(wip, cast, login_as):
    response = login_as(cast.alice).get(URL)
    acme, birch, cedar = response.context["rows"]

    # 30 days old is in 0-30, 31 in 31-60, 60 in 31-60, 61 in 61-90, 91 over 90.
    assert _ages(acme) == (D("1162.50"), D("16.67"), D("0.00"), D("0.00"), D("1179.17"))
    assert _ages(birch) == (D("0.00"), D("87.50"), D("0.00"), D("200.00"), D("287.50"))
    assert _ages(cedar) == (D("0.01"), D("0.00"), D("33.33"), D("0.00"), D("33.34"))


def test_the_totals_row_adds_up_every_client(wip, cast, login_as):
    total = login_as(cast.alice).get(URL).context["total"]

    assert total["minutes"] == 316
    assert (total["time"], total["drafts"]) == (D("750.01"), D("750.00"))
    assert _ages(total) == (
        D("1162.51"),
        D("104.17"),
        D("33.33"),
        D("200.00"),
        D("1500.01"),
    )
    assert total["hours"] == D("5.3")


def test_by_partner_unassigned_clients_have_a_row_of_their_own(wip, cast, login_as):
    response = login_as(cast.alice).get(URL, {"group": "partner"})

    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Alice Owner", D("1179.17")),
        ("Adam Admin", D("287.50")),
        ("No partner", D("33.34")),
    ]
    assert response.context["total"]["total"] == D("1500.01")


def test_by_engagement_work_without_one_is_grouped_per_client(wip, cast, login_as):
    response = login_as(cast.alice).get(URL, {"group": "engagement"})

    assert [(r["label"], r["sub"], r["total"]) for r in response.context["rows"]] == [
        ("2026 audit", "Acme Widgets", D("800.00")),
        ("No engagement", "Acme Widgets", D("379.17")),
        ("No engagement", "Birch Bakery", D("200.00")),
        ("Payroll", "Birch Bakery", D("87.50")),
        ("No engagement", "Cedar Trust", D("33.34")),
    ]
    html = response.content.decode()
    assert f'href="/o/alpha/engagements/{wip["audit"].uuid}/"' in html


def test_a_period_keeps_only_the_work_done_in_it(wip, cast, login_as, today):
    start = today - timedelta(days=31)
    response = login_as(cast.alice).get(
        URL,
        {"period": "custom", "start": start.isoformat(), "end": today.isoformat()},
    )

    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Acme Widgets", D("1179.17")),
        ("Cedar Trust", D("0.01")),
    ]
    assert response.context["total"]["total"] == D("1179.18")


def test_a_bad_custom_period_says_so_and_shows_all_time(wip, cast, login_as, today):
    response = login_as(cast.alice).get(
        URL, {"period": "custom", "start": today.isoformat(), "end": "2020-01-01"}
    )

    assert response.context["period"].preset == "all"
    assert "The period’s first date is after its last." in response.content.decode()
    assert response.context["total"]["total"] == D("1500.01")


def test_staff_limited_to_their_clients_see_only_their_clients_work(
    wip, cast, login_as, assigned_only
):
    assert login_as(cast.sam).get(URL).context["total"]["total"] == D("1500.01")
    assigned_only()

    response = login_as(cast.sam).get(URL, {"group": "partner"})

    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Alice Owner", D("1179.17"))
    ]
    assert response.context["total"]["total"] == D("1179.17")
    # Managers and above still see the whole firm.
    assert login_as(cast.mia).get(URL).context["total"]["total"] == D("1500.01")


def test_another_firms_work_is_its_own(wip, cast, login_as):
    response = login_as(cast.oscar).get("/o/beta/billing/reports/")

    # 600 minutes at 500 and a 1,000 draft: none of Alpha's figures.
    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Beta Client", D("6000.00"))
    ]
    assert login_as(cast.oscar).get(URL).status_code == 404


def test_the_page_draws_a_chart_with_its_table_and_the_figures(wip, cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    assert 'role="img"' in html and "<svg" in html
    assert "Show the figures" in html
    assert 'data-testid="report-rows"' in html
    assert ">1,179.17<" in html and ">1,500.01<" in html
    assert 'aria-current="page"' in html and ">Work in progress<" in html
    assert 'href="/o/alpha/billing/reports/wip.csv?period=all&amp;group=client"' in html


def test_an_empty_firm_says_there_is_no_work_in_progress(cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert response.context["report"].is_empty
    assert 'data-testid="report-empty"' in response.content.decode()


@pytest.mark.parametrize("group", ["client", "engagement", "partner"])
def test_the_page_costs_the_same_queries_for_three_clients_or_sixty(
    wip, cast, login_as, django_assert_num_queries, today, group
):
    http = login_as(cast.alice)
    http.get(URL)  # settles the session's first-visit writes
    for extra in (0, 57):
        for i in range(extra):
            client = make_client(cast.alpha, f"Client {extra}-{i}", partner=cast.mia)
            write_time_entry(client, cast.sam, minutes=6, rate="100", day=today)
        # 1 session, 2 user, 3 the firm (entered in its RLS context), 4 the
        # member's firms, 5 the firm's currency, 6 the grouped figures with
        # their totals row and names (by partner: from the firm's unbilled days
        # in billing_moneyday), 7 reset the RLS context. By client, 6 is the
        # totals row from those days and one more query the rows of the
        # clients with the most unbilled time (billing_clientbalance).
        with django_assert_num_queries(8 if group == "client" else 7):
            response = http.get(URL, {"group": group})
        assert response.status_code == 200
    assert response.context["total"]["minutes"] == 316 + 57 * 6


def test_the_csv_lists_every_row_with_the_totals_first(wip, cast, login_as):
    response = login_as(cast.alice).get(CSV_URL, {"period": "all"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="work-in-progress-by-client-alpha-all.csv"'
        in (response["Content-Disposition"])
    )
    assert rows == [
        [
            "client",
            "unbilled minutes",
            "unbilled time",
            "draft invoices",
            "0–30 days",
            "31–60 days",
            "61–90 days",
            "Over 90 days",
            "total",
        ],
        ["Total", "316", "750.01", "750.00", "1162.51", "104.17", "33.33", "200.00",
         "1500.01"],
        ["Acme Widgets", "145", "429.17", "750.00", "1162.50", "16.67", "0.00",
         "0.00", "1179.17"],
        ["Birch Bakery", "150", "287.50", "0.00", "0.00", "87.50", "0.00", "200.00",
         "287.50"],
        ["Cedar Trust", "21", "33.34", "0.00", "0.01", "0.00", "33.33", "0.00",
         "33.34"],
    ]  # fmt: skip


def test_the_csv_keeps_a_spreadsheet_from_running_a_name(cast, login_as, today):
    client = make_client(cast.alpha, '=HYPERLINK("http://evil.test")')
    write_time_entry(client, cast.sam, minutes=60, rate="100", day=today)

    response = login_as(cast.alice).get(CSV_URL)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[2][0] == '\'=HYPERLINK("http://evil.test")'
    assert rows[2][-1] == "100.00"


def test_the_csv_follows_the_grouping(wip, cast, login_as, assigned_only):
    assigned_only()
    response = login_as(cast.sam).get(CSV_URL, {"group": "engagement"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert [r[:2] + r[-1:] for r in rows] == [
        ["engagement", "client", "total"],
        ["Total", "", "1179.17"],
        ["2026 audit", "Acme Widgets", "800.00"],
        ["No engagement", "Acme Widgets", "379.17"],
    ]
