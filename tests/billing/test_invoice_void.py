"""Voiding from the invoice's page: with a reason, its time unbilled again, its
PDF drawn again saying VOID; refused once anything was paid or credited."""

from __future__ import annotations

from decimal import Decimal

from pypdf import PdfReader

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_add_time, invoice_issue
from billing.services.payments import payment_record
from tests.factories import make_draft_invoice, write_time_entry

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/void/"


def _fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


def test_it_voids_with_the_reason_and_unbills_the_time(
    cast, login_as, jane, django_capture_on_commit_callbacks, media_root
):
    entry = write_time_entry(jane, cast.sam)
    invoice = make_draft_invoice(jane, cast.sam)
    with tenant_context(cast.alpha):
        invoice_add_time(invoice=invoice, by=cast.sam)
        invoice_issue(invoice=invoice, by=cast.sam)

    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.sam).post(
            _url(invoice), {"reason": "Billed the wrong client"}, follow=True
        )

    void = _fresh(invoice)
    assert (void.status, void.void_reason, void.number) == (
        "void",
        "Billed the wrong client",
        1,
    )
    with tenant_context(cast.alpha):
        entry.refresh_from_db()
    assert entry.invoice_line_id is None
    assert "INV-00001 is void; its time is unbilled again." in response.content.decode()
    text = PdfReader(media_root / void.pdf.name).pages[0].extract_text()
    assert "VOID" in text


def test_a_reason_is_required(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), {"reason": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert _fresh(issued).status == "sent"


def test_a_paid_invoice_is_not_voided(cast, login_as, issued):
    with tenant_context(cast.alpha):
        payment_record(invoice=issued, by=cast.sam, amount=D("10"), method="cash")

    response = login_as(cast.sam).post(_url(issued), {"reason": "Oops"}, follow=True)

    assert "has payments: refund them first" in response.content.decode()
    assert _fresh(issued).status == "partial"


def test_voiding_twice_says_so(cast, login_as, issued):
    web = login_as(cast.sam)
    web.post(_url(issued), {"reason": "Oops"})

    response = web.post(_url(issued), {"reason": "Again"}, follow=True)

    assert "INV-00001 is already void." in response.content.decode()
    assert _fresh(issued).void_reason == "Oops"


def test_a_draft_is_deleted_not_voided(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), {"reason": "x"}, follow=True)

    assert "A draft is deleted, not voided." in response.content.decode()


def test_read_only_gets_403(cast, login_as, issued):
    assert login_as(cast.rita).post(_url(issued), {"reason": "x"}).status_code == 403
    assert _fresh(issued).status == "sent"
