"""A draft's terms: memo, discount, tax rate and due date; refused once issued."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/edit/"


def _fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


TERMS = {
    "memo": "Thank you for your business.",
    "discount_percent": "10",
    "tax_rate": "8.25",
    "due_date": "2027-01-31",
}


def test_it_saves_the_terms_and_recomputes_the_totals(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), TERMS, follow=True)

    saved = _fresh(draft)
    assert (saved.memo, saved.discount_percent, saved.tax_rate) == (
        "Thank you for your business.",
        D("10.00"),
        D("8.250"),
    )
    assert saved.due_date == date(2027, 1, 31)
    # 500 - 10% = 450, taxed at 8.25% = 37.13 (half-up once on the total).
    assert (saved.discount_amount, saved.tax_amount, saved.total) == (
        D("50.00"),
        D("37.13"),
        D("487.13"),
    )
    assert "Invoice terms saved." in response.content.decode()


def test_a_discount_over_100_percent_is_refused_on_the_form(cast, login_as, draft):
    response = login_as(cast.sam).post(
        _url(draft), {**TERMS, "discount_percent": "150"}
    )

    assert response.status_code == 200
    assert "A discount is between 0 and 100%." in response.content.decode()
    assert _fresh(draft).discount_percent == 0


def test_an_issued_invoice_is_never_edited_by_a_forged_post(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), TERMS, follow=True)

    assert response.status_code == 200
    assert "INV-00001 is issued and cannot be changed" in response.content.decode()
    assert _fresh(issued).memo == "" and _fresh(issued).total == D("500.00")


def test_read_only_gets_403(cast, login_as, draft):
    assert login_as(cast.rita).post(_url(draft), TERMS).status_code == 403
    assert _fresh(draft).memo == ""


def test_another_firm_gets_404(cast, login_as, draft):
    assert login_as(cast.oscar).post(_url(draft), TERMS).status_code == 404
