"""The client page's Invoices tab: the client's invoices, what it owes, its
unbilled time and the button that bills it; a constant query count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from billing.services.payments import payment_record
from tests.factories import (
    make_client,
    make_draft_invoice,
    make_invoices,
    make_issued_invoice,
    write_time_entry,
)

D = Decimal


def _url(client) -> str:
    return f"/o/alpha/clients/{client.uuid}/?tab=invoices"


def test_it_lists_the_clients_invoices_and_what_it_owes(cast, login_as, jane):
    issued = make_issued_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        payment_record(invoice=issued, by=cast.sam, amount=D("200"), method="check")
    make_draft_invoice(jane, cast.sam)
    make_invoices(make_client(cast.alpha, "Other Co"), 1, first_number=9)

    response = login_as(cast.sam).get(_url(jane))
    html = response.content.decode()

    assert [i.display_number for i in response.context["invoices"]] == [
        "Draft",
        "INV-00001",
    ]
    assert "INV-00009" not in html
    assert response.context["owed"] == [{"currency": "USD", "amount": D("300.00")}]
    assert f"/o/alpha/billing/invoices/?client={jane.uuid}" in html


def test_an_overdue_invoice_is_marked(cast, login_as, jane):
    make_invoices(jane, 1, due_date=timezone.localdate() - timedelta(days=2))

    html = login_as(cast.sam).get(_url(jane)).content.decode()

    assert 'badge-invoice-overdue">Overdue<' in html


def test_it_totals_the_unbilled_time_and_offers_to_bill_it(cast, login_as, jane):
    write_time_entry(jane, cast.sam, minutes=90, rate="200")
    write_time_entry(jane, cast.sam, minutes=30, rate="100", billable=False)

    response = login_as(cast.sam).get(_url(jane))
    html = response.content.decode()

    unbilled = response.context["unbilled"]
    assert (unbilled.count, unbilled.hours, unbilled.value) == (
        1,
        D("1.5"),
        D("300.00"),
    )
    assert 'data-testid="bill-unbilled-time"' in html
    assert 'name="from_time" value="1"' in html


def test_no_unbilled_time_no_button_and_read_only_none_either(cast, login_as, jane):
    assert 'data-testid="bill-unbilled-time"' not in (
        login_as(cast.sam).get(_url(jane)).content.decode()
    )
    write_time_entry(jane, cast.sam)
    html = login_as(cast.rita).get(_url(jane)).content.decode()
    assert 'data-testid="bill-unbilled-time"' not in html
    assert 'data-testid="client-new-invoice"' not in html


def test_the_empty_state(cast, login_as, jane):
    html = login_as(cast.sam).get(_url(jane)).content.decode()

    assert 'data-testid="client-invoices-empty"' in html


def test_the_query_count_does_not_grow_with_invoices(
    cast, login_as, jane, django_assert_num_queries
):
    web = login_as(cast.alice)
    web.get(_url(jane))
    for count, first in ((2, 1), (30, 3)):
        make_invoices(jane, count, first_number=first)
        write_time_entry(jane, cast.sam)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms, 5 the client with its assignees, 6 its tags, 7 the
        # client's invoices, 8 what it owes, 9 its unbilled time, 10 reset.
        with django_assert_num_queries(10):
            response = web.get(_url(jane))
        assert response.status_code == 200
    assert len(response.context["invoices"]) == 32
