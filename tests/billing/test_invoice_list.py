"""The invoice list: rows, statuses (overdue read from the due date), filters,
search by number or client, keyset pages, what is outstanding, who sees what,
and a query count that does not grow with the rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice
from billing.services.invoices import credit_note_create
from billing.services.payments import payment_record
from tests.factories import (
    firm_day,
    make_client,
    make_draft_invoice,
    make_invoices,
    make_issued_invoice,
)

URL = "/o/alpha/billing/invoices/"
D = Decimal


def _numbers(response) -> list[str]:
    return [i.display_number for i in response.context["page"].rows]


def _days(n: int):
    """n days from the firm's today (the list reads "overdue" in it)."""
    return firm_day(n)


# What a row shows -------------------------------------------------------------------


def test_a_row_shows_the_invoice_its_client_and_what_is_owed(cast, login_as, jane):
    invoice = make_issued_invoice(jane, cast.sam, lines=(("Return", "2", "250"),))
    with tenant_context(cast.alpha):
        payment_record(invoice=invoice, by=cast.sam, amount=D("120"), method="check")

    html = login_as(cast.sam).get(URL).content.decode()
    rows = html.split('data-testid="invoice-rows"')[1]

    assert f'href="/o/alpha/billing/invoices/{invoice.uuid}/"' in rows
    assert ">INV-00001<" in rows and "Jane Doe" in rows
    assert "500.00" in rows and "380.00" in rows  # total and balance
    assert "Partially paid" in rows


def test_a_draft_reads_draft_and_has_no_number_or_balance(cast, login_as, jane):
    make_draft_invoice(jane, cast.sam)

    response = login_as(cast.sam).get(URL)

    assert _numbers(response) == ["Draft"]
    assert 'badge-invoice-draft">Draft<' in response.content.decode()


def test_an_open_invoice_past_its_due_date_reads_overdue(cast, login_as, jane):
    make_invoices(jane, 1, due_date=_days(-1))  # stored status: sent
    make_invoices(jane, 1, first_number=2, due_date=_days(1))

    html = login_as(cast.sam).get(URL).content.decode()

    assert html.count('badge-invoice-overdue">Overdue<') == 1
    assert html.count('badge-invoice-sent">Sent<') == 1


def test_client_text_is_escaped(cast, login_as):
    client = make_client(cast.alpha, "<b>Bold</b> & Co")
    make_invoices(client, 1)

    html = login_as(cast.sam).get(URL).content.decode()

    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html


# Filters --------------------------------------------------------------------------


@pytest.fixture
def mixed(cast, jane):
    """INV-1 paid, INV-2 overdue, INV-3 sent and not due, INV-4 void, a draft,
    and CN-00001 crediting INV-3 in part."""
    make_invoices(jane, 1, status="paid", amount_paid=D("100"), issue_date=_days(-60))
    make_invoices(jane, 1, first_number=2, due_date=_days(-5), issue_date=_days(-35))
    third = make_invoices(jane, 1, first_number=3)[0]
    make_invoices(jane, 1, first_number=4, status="void")
    make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        credit_note_create(
            invoice=third, by=cast.sam, amount=D("40"), reason="Goodwill"
        )
    return jane


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", ["Draft", "INV-00004", "INV-00003", "INV-00002", "INV-00001"]),
        ("unpaid", ["INV-00003", "INV-00002"]),
        ("overdue", ["INV-00002"]),
        ("paid", ["INV-00001"]),
        ("void", ["INV-00004"]),
        ("draft", ["Draft"]),
        ("credit_notes", ["CN-00001"]),
        ("nonsense", ["Draft", "INV-00004", "INV-00003", "INV-00002", "INV-00001"]),
    ],
)
def test_it_filters_by_status(cast, login_as, mixed, status, expected):
    response = login_as(cast.sam).get(URL, {"status": status})

    assert _numbers(response) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("INV-00002", ["INV-00002"]),
        ("inv 3", ["INV-00003"]),
        ("#4", ["INV-00004"]),
        ("1", ["INV-00001"]),
        ("CN-1", []),  # credit notes are listed under their own status
    ],
)
def test_it_finds_an_invoice_by_its_number(cast, login_as, mixed, q, expected):
    assert _numbers(login_as(cast.sam).get(URL, {"q": q})) == expected


def test_a_credit_note_is_found_by_its_number_among_credit_notes(cast, login_as, mixed):
    response = login_as(cast.sam).get(URL, {"q": "CN-00001", "status": "credit_notes"})

    assert _numbers(response) == ["CN-00001"]


def test_it_searches_by_the_clients_name(cast, login_as, jane):
    acme = make_client(cast.alpha, "Acme Widgets")
    make_invoices(jane, 1)
    make_invoices(acme, 1, first_number=2)

    response = login_as(cast.sam).get(URL, {"q": "acm"})

    assert _numbers(response) == ["INV-00002"]


def test_it_narrows_to_one_client_from_its_page(cast, login_as, jane):
    acme = make_client(cast.alpha, "Acme Widgets")
    make_invoices(jane, 1)
    make_invoices(acme, 1, first_number=2)

    response = login_as(cast.sam).get(URL, {"client": str(acme.uuid)})

    assert _numbers(response) == ["INV-00002"]
    assert response.context["client"] == acme
    assert "Acme Widgets" in response.content.decode()


def test_it_filters_by_the_issue_date(cast, login_as, mixed):
    response = login_as(cast.sam).get(
        URL,
        {
            "issued_from": _days(-40).isoformat(),
            "issued_to": _days(-30).isoformat(),
        },
    )

    assert _numbers(response) == ["INV-00002"]


def test_a_malformed_filter_is_ignored(cast, login_as, mixed):
    response = login_as(cast.sam).get(
        URL, {"issued_from": "yesterday", "client": "not-a-uuid", "cursor": "forged"}
    )

    assert response.status_code == 200
    assert len(_numbers(response)) == 5


def test_nothing_matches_and_no_invoices_yet_are_told_apart(cast, login_as, jane):
    web = login_as(cast.sam)

    assert 'data-testid="invoices-empty"' in web.get(URL).content.decode()
    make_invoices(jane, 1)
    html = web.get(URL, {"q": "INV-00099"}).content.decode()
    assert 'data-testid="invoices-no-match"' in html


# Totals -----------------------------------------------------------------------------


def test_it_totals_what_is_outstanding_and_overdue(cast, login_as, mixed):
    response = login_as(cast.sam).get(URL)
    (owed,) = response.context["outstanding"]

    # INV-2 (100, overdue) and INV-3 (100 less its 40 credit) are owed; paid,
    # void, draft and the credit note are not.
    assert (owed.currency, owed.amount, owed.count) == ("USD", D("160.00"), 2)
    assert (owed.overdue_amount, owed.overdue_count) == (D("100.00"), 1)
    assert "160.00" in response.content.decode()


def test_the_totals_follow_the_client_filter(cast, login_as, jane):
    acme = make_client(cast.alpha, "Acme Widgets")
    make_invoices(jane, 2)
    make_invoices(acme, 1, first_number=3)

    response = login_as(cast.sam).get(URL, {"client": str(acme.uuid)})

    assert response.context["outstanding"][0].amount == D("100.00")


# Pages ------------------------------------------------------------------------------


def test_it_pages_by_keyset_newest_first(cast, login_as, jane):
    for n in range(1, 56):
        make_invoices(jane, 1, first_number=n)
    web = login_as(cast.sam)

    first = web.get(URL)
    second = web.get(first.context["next_url"])
    back = web.get(second.context["prev_url"])

    assert len(_numbers(first)) == 50 and _numbers(first)[0] == "INV-00055"
    assert _numbers(second) == [f"INV-{n:05d}" for n in range(5, 0, -1)]
    assert _numbers(back) == _numbers(first)
    assert "status" not in first.context["next_url"]


def test_overdue_invoices_come_oldest_due_first_across_pages(cast, login_as, jane):
    for n in range(1, 53):
        make_invoices(jane, 1, first_number=n, due_date=_days(-n))
    web = login_as(cast.sam)

    first = web.get(URL, {"status": "overdue"})
    second = web.get(first.context["next_url"])

    assert _numbers(first)[:2] == ["INV-00052", "INV-00051"]
    assert _numbers(second) == ["INV-00002", "INV-00001"]
    assert "status=overdue" in first.context["next_url"]


# Who sees what ----------------------------------------------------------------------


def test_a_read_only_member_sees_the_list_but_no_new_button(cast, login_as, jane):
    make_invoices(jane, 1)

    response = login_as(cast.rita).get(URL)

    assert _numbers(response) == ["INV-00001"]
    assert 'data-testid="new-invoice"' not in response.content.decode()


def test_another_firms_invoices_never_show(cast, login_as, jane):
    beta_client = make_client(cast.beta, "Beta Client")
    make_invoices(beta_client, 1, first_number=7)

    assert _numbers(login_as(cast.alice).get(URL)) == []
    assert login_as(cast.oscar).get(URL).status_code == 404


def test_with_assigned_only_staff_see_their_clients_invoices(cast, login_as, jane):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    other = make_client(cast.alpha, "Not Sams", partner=cast.alice)
    make_invoices(jane, 1)  # Sam is Jane's staff
    make_invoices(other, 1, first_number=2)

    sams = login_as(cast.sam).get(URL)
    assert _numbers(sams) == ["INV-00001"]
    assert sams.context["outstanding"][0].amount == D("100.00")
    assert _numbers(login_as(cast.alice).get(URL)) == ["INV-00002", "INV-00001"]


# Speed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "overdue"}, {"q": "jane"}, {"q": "INV-3"}, {"client": "jane"}],
)
def test_the_query_count_does_not_grow_with_invoices(
    cast, login_as, jane, django_assert_num_queries, params
):
    web = login_as(cast.alice)
    web.get(URL)  # settles the session's first-visit writes
    if params.get("client"):
        params = {"client": str(jane.uuid)}
    for count, first in ((3, 1), (60, 4)):
        make_invoices(jane, count, first_number=first, due_date=_days(-1))
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms (the membership and the switcher), 5 a page of invoices
        # with their clients and engagements (a client-name search is a
        # subquery), 6 the outstanding totals, 7 reset the RLS context. Narrowed
        # to a client: + the client's name.
        with django_assert_num_queries(8 if "client" in params else 7):
            response = web.get(URL, params)
        assert response.status_code == 200
    if params.get("q") != "INV-3":
        assert len(response.context["page"].rows) == 50


def test_a_page_is_one_query_of_invoices_with_their_clients(cast, login_as, jane):
    make_invoices(jane, 3)
    with tenant_context(cast.alpha):
        assert Invoice.objects.count() == 3

    response = login_as(cast.sam).get(URL)

    assert all(
        "client" in row._state.fields_cache for row in response.context["page"].rows
    )
