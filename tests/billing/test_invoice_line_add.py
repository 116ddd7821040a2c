"""Fixed fees, retainers and expenses on a draft; negative quantities refused."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement
from tests.factories import make_client

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/lines/"


def _lines(invoice):
    with tenant_context(invoice.organization):
        return list(invoice.lines.order_by("position"))


LINE = {
    "kind": "retainer",
    "description": "Monthly retainer",
    "quantity": "2",
    "unit_price": "750",
    "taxable": "on",
}


def test_it_adds_a_line_and_recomputes_the_total(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), LINE, follow=True)

    _, line = _lines(draft)
    assert (line.kind, line.amount, line.standard_amount) == (
        "retainer",
        D("1500.00"),
        D("1500.00"),
    )
    assert "Line added." in response.content.decode()
    with tenant_context(cast.alpha):
        draft.refresh_from_db()
    assert draft.total == D("2000.00")


def test_an_expense_names_an_engagement_of_the_client(cast, login_as, jane, draft):
    with tenant_context(cast.alpha):
        books = Engagement.objects.create(
            organization=cast.alpha, client=jane, name="Books", engagement_type="other"
        )
    login_as(cast.sam).post(
        _url(draft), {**LINE, "kind": "expense", "engagement": str(books.pk)}
    )

    assert _lines(draft)[1].engagement_id == books.pk


def test_another_clients_engagement_is_not_a_choice(cast, login_as, draft):
    other = make_client(cast.alpha, "Other Co")
    with tenant_context(cast.alpha):
        theirs = Engagement.objects.create(
            organization=cast.alpha,
            client=other,
            name="Theirs",
            engagement_type="other",
        )

    response = login_as(cast.sam).post(_url(draft), {**LINE, "engagement": theirs.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert len(_lines(draft)) == 1


def test_a_negative_quantity_is_refused_in_words(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), {**LINE, "quantity": "-1"})

    assert response.status_code == 200
    assert "A quantity cannot be negative" in response.content.decode()
    assert len(_lines(draft)) == 1


def test_time_cannot_be_typed_in(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), {**LINE, "kind": "time"})

    assert "Select a valid choice" in response.content.decode()
    assert len(_lines(draft)) == 1


def test_an_issued_invoice_gets_no_new_line(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), LINE, follow=True)

    assert "is issued and cannot be changed" in response.content.decode()
    assert len(_lines(issued)) == 1


def test_read_only_gets_403(cast, login_as, draft):
    assert login_as(cast.rita).post(_url(draft), LINE).status_code == 403
