"""Realization of the invoices issued in a period: billed against standard value
(write-ups and write-downs, discounts and credit notes), collected against owed
(succeeded payments less refunds)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import make_client, write_invoice, write_payment

URL = "/o/alpha/billing/reports/realization/"
CSV_URL = "/o/alpha/billing/reports/realization.csv"
D = Decimal


@pytest.fixture
def period(today) -> dict:
    return {
        "period": "custom",
        "start": (today - timedelta(days=100)).isoformat(),
        "end": today.isoformat(),
    }


@pytest.fixture
def billed(cast, today, acme, birch):
    """Hand-computed, for the last 100 days:

    Acme (Alice) issued 10 days ago: lines 1,000 (standard 1,200: a write-down)
        and 500 (500); discount 150, so 1,350 owed. A credit note of 135 against
        it 5 days ago. Paid 1,215, then 15 of it refunded.
        standard 1,700; billed 1,500 - 150 - 135 = 1,215; owed 1,350 - 135 =
        1,215; collected 1,200.
    Birch (Adam) issued 50 days ago: one line 300 (standard 250: a write-up),
        tax 30, so 330 owed. A failed payment of 100, a payment of 165.
        standard 250; billed 300; owed 330; collected 165.
    Left out: a void invoice, a draft, an invoice issued 200 days ago, Beta's.
    """

    def ago(days: int):
        return today - timedelta(days=days)

    one = write_invoice(
        acme,
        lines=[("1000", "1200"), ("500", "500")],
        discount_amount="150",
        issue_date=ago(10),
        due_date=ago(-20),
        status="paid",
    )
    write_invoice(
        acme,
        lines=[("135", "0")],
        kind="credit_note",
        credited_invoice=one,
        issue_date=ago(5),
    )
    write_payment(one, "1215", refunded="15")
    two = write_invoice(
        birch, lines=[("300", "250")], tax_amount="30", issue_date=ago(50)
    )
    write_payment(two, "100", status="failed")
    write_payment(two, "165")
    write_invoice(acme, lines=[("900", "900")], status="void", issue_date=ago(20))
    write_invoice(acme, lines=[("800", "800")], status="draft")
    write_invoice(birch, lines=[("700", "100")], issue_date=ago(200))
    beta_client = make_client(cast.beta, "Beta Client", partner=cast.oscar)
    write_invoice(beta_client, lines=[("50", "100")], issue_date=ago(10))


def _figures(row) -> tuple:
    return (
        row["invoices"],
        row["standard"],
        row["billed"],
        row["billing_rate"],
        row["owed"],
        row["collected"],
        row["collection_rate"],
    )


def test_by_partner_billed_against_standard_and_collected_against_owed(
    billed, cast, login_as, period
):
    response = login_as(cast.alice).get(URL, period)

    assert response.status_code == 200
    assert [(r["label"], *_figures(r)) for r in response.context["rows"]] == [
        ("Alice Owner", 1, D("1700.00"), D("1215.00"), D("71.5"), D("1215.00"),
         D("1200.00"), D("98.8")),
        ("Adam Admin", 1, D("250.00"), D("300.00"), D("120.0"), D("330.00"),
         D("165.00"), D("50.0")),
    ]  # fmt: skip


def test_the_totals_give_the_firms_realization(billed, cast, login_as, period):
    response = login_as(cast.alice).get(URL, period)
    total = response.context["total"]

    # 1,515 / 1,950 and 1,365 / 1,545.
    assert _figures(total) == (
        2,
        D("1950.00"),
        D("1515.00"),
        D("77.7"),
        D("1545.00"),
        D("1365.00"),
        D("88.3"),
    )
    assert total["adjustment"] == D("-435.00")
    html = response.content.decode()
    assert 'data-testid="billing-realization">77.7%<' in html
    assert 'data-testid="collection-realization">88.3%<' in html


def test_by_client(billed, cast, login_as, period, acme):
    response = login_as(cast.alice).get(URL, {**period, "group": "client"})

    assert [(r["label"], r["billed"]) for r in response.context["rows"]] == [
        ("Acme Widgets", D("1215.00")),
        ("Birch Bakery", D("300.00")),
    ]
    assert f'href="/o/alpha/clients/{acme.uuid}/"' in response.content.decode()


def test_a_period_without_invoices_has_no_realization(billed, cast, login_as, today):
    start = today - timedelta(days=40)
    response = login_as(cast.alice).get(
        URL,
        {
            "period": "custom",
            "start": start.isoformat(),
            "end": (start + timedelta(days=10)).isoformat(),
        },
    )

    assert response.context["rows"] == []
    assert response.context["total"]["billing_rate"] is None
    assert 'data-testid="report-empty"' in response.content.decode()


def test_staff_limited_to_their_clients_see_their_partners_share(
    billed, cast, login_as, period, assigned_only
):
    assigned_only()

    response = login_as(cast.sam).get(URL, period)

    assert [r["label"] for r in response.context["rows"]] == ["Alice Owner"]
    assert response.context["total"]["billed"] == D("1215.00")


def test_another_firms_invoices_stay_in_it(billed, cast, login_as, period):
    response = login_as(cast.oscar).get("/o/beta/billing/reports/realization/", period)

    assert [
        (r["label"], r["standard"], r["billed"]) for r in response.context["rows"]
    ] == [("Oscar Outsider", D("100.00"), D("50.00"))]


def test_the_page_costs_the_same_queries_for_two_invoices_or_fifty(
    billed, cast, login_as, period, django_assert_num_queries, today
):
    http = login_as(cast.alice)
    http.get(URL, period)
    for extra in (0, 48):
        for i in range(extra):
            client = make_client(cast.alpha, f"Client {extra}-{i}", partner=cast.mia)
            invoice = write_invoice(
                client, lines=[("10", "12")], issue_date=today, status="paid"
            )
            write_payment(invoice, "10")
        # 1 session, 2 user, 3 the firm (entered in its RLS context), 4 the
        # member's firms, 5 the firm's currency, 6 the period's invoices with
        # their lines' standard value, credit notes and payments, grouped, with
        # the totals row and the partners' names, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = http.get(URL, {**period, "group": "client"})
        assert response.status_code == 200
    assert response.context["total"]["invoices"] == 2 + 48


def test_the_csv(billed, cast, login_as, period):
    response = login_as(cast.alice).get(CSV_URL, period)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows == [
        ["partner", "invoices", "standard value", "billed", "billing realization %",
         "owed", "collected", "collection realization %"],
        ["Total", "2", "1950.00", "1515.00", "77.7", "1545.00", "1365.00", "88.3"],
        ["Alice Owner", "1", "1700.00", "1215.00", "71.5", "1215.00", "1200.00",
         "98.8"],
        ["Adam Admin", "1", "250.00", "300.00", "120.0", "330.00", "165.00", "50.0"],
    ]  # fmt: skip
