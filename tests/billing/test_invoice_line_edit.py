"""Editing a draft's line: a fee's quantity and price, and any line billed up or
down from its standard value with a reason; an issued invoice's line, never."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import InvoiceLine
from billing.services.invoices import invoice_add_time
from tests.factories import write_time_entry

D = Decimal


def _line(invoice) -> InvoiceLine:
    with tenant_context(invoice.organization):
        return invoice.lines.order_by("position").last()


def _url(line) -> str:
    return f"/o/alpha/billing/invoices/lines/{line.uuid}/"


def _fresh(line) -> InvoiceLine:
    with tenant_context(line.organization):
        return InvoiceLine.objects.get(pk=line.pk)


def test_the_form_shows_the_line_and_its_standard_amount(cast, login_as, draft):
    html = login_as(cast.sam).get(_url(_line(draft))).content.decode()

    assert 'value="Tax return"' in html
    assert "standard amount <strong>500.00 USD</strong>" in html


def test_a_fee_lines_quantity_and_price_change_its_amount(cast, login_as, draft):
    line = _line(draft)

    login_as(cast.sam).post(
        _url(line),
        {"description": "Two returns", "quantity": "2", "unit_price": "450"},
    )

    saved = _fresh(line)
    assert (saved.description, saved.amount, saved.standard_amount) == (
        "Two returns",
        D("900.00"),
        D("900.00"),
    )
    assert saved.adjustment == 0


def test_a_time_line_is_written_down_with_its_reason(cast, login_as, jane, draft):
    write_time_entry(jane, cast.sam, minutes=120, rate="150")
    with tenant_context(cast.alpha):
        (line,) = invoice_add_time(invoice=draft, by=cast.sam)

    response = login_as(cast.sam).post(
        _url(line),
        {
            "description": line.description,
            # A time line's hours and rate come from its entries: ignored here.
            "quantity": "99",
            "unit_price": "1",
            "amount": "250",
            "adjustment_reason": "First year",
            "taxable": "on",
        },
        follow=True,
    )

    saved = _fresh(line)
    assert (saved.quantity, saved.unit_price) == (D("2.00"), D("150.00"))
    assert (saved.amount, saved.standard_amount, saved.adjustment) == (
        D("250.00"),
        D("300.00"),
        D("-50.00"),
    )
    assert saved.adjustment_reason == "First year"
    assert "Line saved." in response.content.decode()


def test_a_write_up_without_a_reason_is_refused(cast, login_as, draft):
    line = _line(draft)

    response = login_as(cast.sam).post(
        _url(line),
        {
            "description": "Tax return",
            "quantity": "1",
            "unit_price": "500",
            "amount": "600",
        },
    )

    assert response.status_code == 200
    assert "Say why the line bills another amount." in response.content.decode()
    assert _fresh(line).amount == D("500.00")


def test_blank_bills_the_standard_amount_again(cast, login_as, jane, draft):
    write_time_entry(jane, cast.sam, minutes=60, rate="100")
    with tenant_context(cast.alpha):
        (line,) = invoice_add_time(invoice=draft, by=cast.sam)
    web = login_as(cast.sam)
    base = {"description": line.description, "quantity": "1", "unit_price": "100"}
    web.post(_url(line), {**base, "amount": "80", "adjustment_reason": "Courtesy"})

    web.post(_url(line), {**base, "amount": ""})

    saved = _fresh(line)
    assert (saved.amount, saved.adjustment_reason) == (D("100.00"), "")


def test_a_negative_amount_is_refused(cast, login_as, draft):
    line = _line(draft)

    response = login_as(cast.sam).post(
        _url(line),
        {
            "description": "Tax return",
            "quantity": "1",
            "unit_price": "500",
            "amount": "-5",
            "adjustment_reason": "Oops",
        },
    )

    assert "cannot bill less than nothing" in response.content.decode()
    assert _fresh(line).amount == D("500.00")


def test_an_issued_invoices_line_is_never_edited(cast, login_as, issued):
    line = _line(issued)
    web = login_as(cast.sam)

    assert web.get(_url(line)).status_code == 302
    response = web.post(
        _url(line),
        {"description": "Forged", "quantity": "1", "unit_price": "1"},
        follow=True,
    )

    assert "INV-00001 is issued and cannot be changed" in response.content.decode()
    assert _fresh(line).description == "Tax return"


def test_read_only_gets_403_and_another_firm_404(cast, login_as, draft):
    line = _line(draft)

    assert login_as(cast.rita).get(_url(line)).status_code == 403
    assert login_as(cast.oscar).get(_url(line)).status_code == 404
