"""Revenue by month, by the client's partner and by the engagement's type: fees of
the invoices issued in each month after their discount, before tax, credit notes
taken off in their own month."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from billing.reports.period import add_months, month_start
from tests.factories import make_client, write_invoice

URL = "/o/alpha/billing/reports/revenue/"
CSV_URL = "/o/alpha/billing/reports/revenue.csv"
D = Decimal
ZERO = D("0.00")


@pytest.fixture
def months(today) -> dict:
    this = month_start(today)
    return {
        "this": this,
        "last": add_months(this, -1),
        "before": add_months(this, -2),
        "query": {
            "period": "custom",
            "start": add_months(this, -2).isoformat(),
            "end": today.isoformat(),
        },
    }


@pytest.fixture
def revenue(cast, today, months, acme, birch, cedar, make_engagement):
    """Hand-computed, for the last three months:

    This month, Acme (Alice), an invoice of the individual tax engagement:
      a line of the audit engagement 1,000 and a line of its own 500, discount
      10% (150): 900 audit, 450 individual tax; tax 30 is no revenue. A credit
      note of 90 on the audit line: -90 audit.
    Last month, Birch (Adam): 300 with no engagement.
    Two months ago, Cedar (no partner): 100.00 and 200.00 less a discount of
      33.33, spread in proportion: 88.89 and 177.78.
    Left out: void and draft invoices, an invoice of three months ago, Beta's.
    """
    audit = make_engagement(acme, "2026 audit", "audit")
    tax = make_engagement(acme, "2026 Form 1040", "individual_tax")
    one = write_invoice(
        acme,
        engagement=tax,
        lines=[("1000", "1000", audit), ("500", "500")],
        discount_amount="150",
        tax_amount="30",
        issue_date=today,
    )
    write_invoice(
        acme,
        kind="credit_note",
        credited_invoice=one,
        lines=[("90", "0", audit)],
        issue_date=today,
    )
    write_invoice(birch, lines=[("300", "300")], issue_date=months["last"])
    write_invoice(
        cedar,
        lines=[("100", "100"), ("200", "200")],
        discount_amount="33.33",
        issue_date=months["before"],
    )
    write_invoice(acme, lines=[("5000", "5000")], status="void", issue_date=today)
    write_invoice(acme, lines=[("5000", "5000")], status="draft")
    write_invoice(birch, lines=[("7000", "7000")], issue_date=add_months(today, -3))
    beta_client = make_client(cast.beta, "Beta Client", partner=cast.oscar)
    write_invoice(beta_client, lines=[("999", "999")], issue_date=today)


def test_by_partner_and_month(revenue, cast, login_as, months):
    response = login_as(cast.alice).get(URL, months["query"])

    assert response.status_code == 200
    assert response.context["partner_rows"] == [
        ("Alice Owner", [ZERO, ZERO, D("1260.00")], D("1260.00")),
        ("Adam Admin", [ZERO, D("300.00"), ZERO], D("300.00")),
        ("No partner", [D("266.67"), ZERO, ZERO], D("266.67")),
    ]
    assert response.context["month_totals"] == [D("266.67"), D("300.00"), D("1260.00")]
    assert response.context["report"].total == D("1826.67")


def test_by_service_type_and_month(revenue, cast, login_as, months):
    response = login_as(cast.alice).get(URL, months["query"])

    # The line's engagement first, else the invoice's; neither: its own row.
    # Largest first.
    assert response.context["service_rows"] == [
        ("Audit", [ZERO, ZERO, D("810.00")], D("810.00")),
        ("No engagement type", [D("266.67"), D("300.00"), ZERO], D("566.67")),
        ("Individual tax return", [ZERO, ZERO, D("450.00")], D("450.00")),
    ]


def test_the_months_are_the_periods_own(revenue, cast, login_as, months):
    response = login_as(cast.alice).get(URL, months["query"])

    assert response.context["months"] == [
        months["before"].strftime("%b %Y"),
        months["last"].strftime("%b %Y"),
        months["this"].strftime("%b %Y"),
    ]


def test_all_time_runs_from_the_first_month_billed(revenue, cast, login_as, today):
    response = login_as(cast.alice).get(URL, {"period": "all"})

    # Three months ago to this month: four columns.
    assert len(response.context["months"]) == 4
    assert response.context["report"].total == D("8826.67")


def test_staff_limited_to_their_clients_see_their_clients_revenue(
    revenue, cast, login_as, months, assigned_only
):
    assigned_only()

    response = login_as(cast.sam).get(URL, months["query"])

    assert [name for name, _, _ in response.context["partner_rows"]] == ["Alice Owner"]
    assert response.context["report"].total == D("1260.00")


def test_another_firms_revenue_stays_in_it(revenue, cast, login_as, months):
    response = login_as(cast.oscar).get(
        "/o/beta/billing/reports/revenue/", months["query"]
    )

    assert response.context["partner_rows"] == [
        ("Oscar Outsider", [ZERO, ZERO, D("999.00")], D("999.00"))
    ]


def test_the_page_draws_both_charts(revenue, cast, login_as, months):
    html = login_as(cast.alice).get(URL, months["query"]).content.decode()

    assert html.count('role="img"') == 2
    assert "<polyline" in html  # the service types' lines
    assert ">1,826.67<" in html


def test_nothing_billed_says_so(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    assert 'data-testid="report-empty"' in html


def test_the_page_costs_the_same_queries_for_three_partners_or_twelve(
    revenue, cast, login_as, months, django_assert_num_queries, today
):
    from tests.factories import make_member

    http = login_as(cast.alice)
    http.get(URL, months["query"])
    for extra in (0, 9):
        for i in range(extra):
            partner = make_member(cast.alpha, f"Partner Number{i}", "admin")
            client = make_client(cast.alpha, f"Client {i}", partner=partner)
            write_invoice(client, lines=[("10", "10")], issue_date=today)
        # 1 session, 2 user, 3 the firm (entered in its RLS context), 4 the
        # member's firms, 5 the firm's currency, 6 the lines grouped by partner
        # and month, service type and month, month, and in all (GROUPING SETS),
        # with the partners' names, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = http.get(URL, months["query"])
        assert response.status_code == 200
    assert len(response.context["partner_rows"]) == 12


def test_the_csv_has_a_row_per_partner_or_service_and_month(
    revenue, cast, login_as, months
):
    response = login_as(cast.alice).get(CSV_URL, months["query"])
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    this, last, before = (
        months[k].strftime("%Y-%m") for k in ("this", "last", "before")
    )

    assert rows[0] == ["dimension", "name", "month", "revenue"]
    assert sorted(rows[1:]) == sorted(
        [
            ["partner", "Alice Owner", this, "1260.00"],
            ["partner", "Adam Admin", last, "300.00"],
            ["partner", "No partner", before, "266.67"],
            ["service type", "Audit", this, "810.00"],
            ["service type", "Individual tax return", this, "450.00"],
            ["service type", "No engagement type", last, "300.00"],
            ["service type", "No engagement type", before, "266.67"],
        ]
    )
