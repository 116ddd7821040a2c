"""Receivables ageing: each open invoice's balance (total less credits less
payments) by days past its due date, per client, with totals."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import make_client, write_invoice, write_payment

URL = "/o/alpha/billing/reports/ageing/"
CSV_URL = "/o/alpha/billing/reports/ageing.csv"
D = Decimal
ZERO = D("0.00")


@pytest.fixture
def owed(cast, today, acme, birch, cedar):
    """Hand-computed balances by days past due:

    Acme  sent 1,000 due today                         current      1,000.00
          viewed 500 due yesterday                     1-30           500.00
          partial 800 (300 paid) due 30 days ago       1-30           500.00
          overdue 400 (credit note 100) due 31 days ago 31-60         300.00
    Birch overdue 250 due 60 days ago                  31-60          250.00
          overdue 120 due 61 days ago                  61-90          120.00
          sent 90 due 90 days ago                      61-90           90.00
          overdue 75.25 due 91 days ago                over 90         75.25
          partial 600, 400 paid of which 100 refunded,
          due 200 days ago                             over 90        300.00
    Left out: paid, void and draft invoices, the credit note itself, Cedar's
    paid invoice, Beta's invoice.
    """

    def due(days: int) -> dict:
        day = today - timedelta(days=days)
        return {"issue_date": day - timedelta(days=30), "due_date": day}

    write_invoice(acme, lines=[("1000", "1000")], status="sent", **due(0))
    write_invoice(acme, lines=[("500", "500")], status="viewed", **due(1))
    partial = write_invoice(acme, lines=[("800", "800")], status="partial", **due(30))
    write_payment(partial, "300")
    credited = write_invoice(acme, lines=[("400", "400")], status="overdue", **due(31))
    write_invoice(
        acme,
        lines=[("100", "0")],
        kind="credit_note",
        credited_invoice=credited,
        **due(5),
    )
    write_invoice(birch, lines=[("250", "250")], status="overdue", **due(60))
    write_invoice(birch, lines=[("120", "120")], status="overdue", **due(61))
    write_invoice(birch, lines=[("90", "90")], status="sent", **due(90))
    write_invoice(birch, lines=[("75.25", "75.25")], status="overdue", **due(91))
    refunded = write_invoice(
        birch, lines=[("600", "600")], status="partial", **due(200)
    )
    write_payment(refunded, "400", refunded="100")
    paid = write_invoice(cedar, lines=[("700", "700")], status="paid", **due(40))
    write_payment(paid, "700")
    write_invoice(acme, lines=[("5000", "5000")], status="void", **due(100))
    write_invoice(birch, lines=[("5000", "5000")], status="draft")
    beta_client = make_client(cast.beta, "Beta Client")
    write_invoice(beta_client, lines=[("321", "321")], status="overdue", **due(45))


def _buckets(row) -> tuple:
    return (
        row["current"],
        row["days_1_30"],
        row["days_31_60"],
        row["days_61_90"],
        row["days_over_90"],
        row["total"],
        row["invoices"],
    )


def test_each_clients_balance_is_aged_by_days_past_due(owed, cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    assert [(r["label"], *_buckets(r)) for r in response.context["rows"]] == [
        ("Acme Widgets", D("1000.00"), D("1000.00"), D("300.00"), ZERO, ZERO,
         D("2300.00"), 4),
        ("Birch Bakery", ZERO, ZERO, D("250.00"), D("210.00"), D("375.25"),
         D("835.25"), 5),
    ]  # fmt: skip


def test_the_totals_row_adds_up_every_open_invoice(owed, cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert _buckets(response.context["total"]) == (
        D("1000.00"),
        D("1000.00"),
        D("550.00"),
        D("210.00"),
        D("375.25"),
        D("3135.25"),
        9,
    )
    assert response.context["overdue"] == D("2135.25")


def test_the_bands_meet_at_exactly_30_and_31_days(cast, login_as, acme, today):
    for days, amount in ((0, "1"), (1, "2"), (30, "4"), (31, "8"), (90, "16")):
        write_invoice(
            acme,
            lines=[(amount, amount)],
            issue_date=today - timedelta(days=days + 30),
            due_date=today - timedelta(days=days),
        )

    (row,) = login_as(cast.alice).get(URL).context["rows"]

    # Due today is current; 1 and 30 days past due are 1-30; 31 is 31-60;
    # 90 is 61-90.
    assert _buckets(row) == (
        D("1.00"),
        D("6.00"),
        D("8.00"),
        D("16.00"),
        ZERO,
        D("31.00"),
        5,
    )


def test_a_period_keeps_the_invoices_issued_in_it(owed, cast, login_as, today):
    # Issued 30 days before due: the last 31 days hold the invoices due today
    # and yesterday.
    start = today - timedelta(days=31)
    response = login_as(cast.alice).get(
        URL,
        {"period": "custom", "start": start.isoformat(), "end": today.isoformat()},
    )

    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Acme Widgets", D("1500.00"))
    ]


def test_staff_limited_to_their_clients_see_only_what_those_owe(
    owed, cast, login_as, assigned_only
):
    assigned_only()

    response = login_as(cast.sam).get(URL)

    assert [r["label"] for r in response.context["rows"]] == ["Acme Widgets"]
    assert response.context["total"]["total"] == D("2300.00")
    # A read-only member is limited alike, and may read the report.
    rita = login_as(cast.rita).get(URL)
    assert rita.status_code == 200 and rita.context["rows"] == []


def test_another_firms_invoices_stay_in_it(owed, cast, login_as):
    response = login_as(cast.oscar).get("/o/beta/billing/reports/ageing/")

    assert [(r["label"], r["total"]) for r in response.context["rows"]] == [
        ("Beta Client", D("321.00"))
    ]
    assert response.context["total"]["days_31_60"] == D("321.00")


def test_the_page_shows_the_charts_and_the_client_links(owed, cast, login_as, acme):
    html = login_as(cast.alice).get(URL).content.decode()

    assert html.count('role="img"') == 2
    assert "Owed by days past due" in html and "Largest balances" in html
    assert f'href="/o/alpha/clients/{acme.uuid}/"' in html
    assert ">3,135.25<" in html and ">2,135.25<" in html


def test_nothing_owed_says_so(cast, login_as, acme):
    write_invoice(acme, lines=[("10", "10")], status="paid")

    html = login_as(cast.alice).get(URL).content.decode()

    assert 'data-testid="report-empty"' in html and "Nothing owed" in html


def test_the_page_costs_the_same_queries_for_two_clients_or_sixty(
    owed, cast, login_as, django_assert_num_queries, today
):
    http = login_as(cast.alice)
    http.get(URL)
    for extra in (0, 58):
        for i in range(extra):
            client = make_client(cast.alpha, f"Debtor {extra}-{i}")
            write_invoice(client, lines=[("10", "10")], due_date=today)
        # 1 session, 2 user, 3 the firm (entered in its RLS context), 4 the
        # member's firms, 5 the firm's currency, 6 the totals row from the
        # firm's due days (billing_moneyday), 7 the open invoices of the clients
        # owing most (billing_clientbalance) grouped by client with their
        # names, 8 reset the RLS context.
        with django_assert_num_queries(8):
            response = http.get(URL)
        assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert response.context["report"].more
    assert response.context["total"]["invoices"] == 9 + 58
    assert 'data-testid="report-more"' in response.content.decode()


def test_the_csv_has_every_client_and_the_totals_first(owed, cast, login_as):
    response = login_as(cast.alice).get(CSV_URL)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert (
        'filename="receivables-ageing-alpha-all.csv"'
        in (response["Content-Disposition"])
    )
    assert rows == [
        ["client", "open invoices", "Current", "1–30 days", "31–60 days",
         "61–90 days", "Over 90 days", "total"],
        ["Total", "9", "1000.00", "1000.00", "550.00", "210.00", "375.25", "3135.25"],
        ["Acme Widgets", "4", "1000.00", "1000.00", "300.00", "0.00", "0.00",
         "2300.00"],
        ["Birch Bakery", "5", "0.00", "0.00", "250.00", "210.00", "375.25",
         "835.25"],
    ]  # fmt: skip


def test_the_csv_quotes_a_name_a_spreadsheet_would_run(cast, login_as, today):
    client = make_client(cast.alpha, "@SUM(A1:A9)")
    write_invoice(client, lines=[("10", "10")], due_date=today)

    response = login_as(cast.alice).get(CSV_URL)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[2][0] == "'@SUM(A1:A9)"
