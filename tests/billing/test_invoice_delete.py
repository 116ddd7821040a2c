"""Deleting a draft: its time is unbilled again; an issued invoice is voided,
never deleted."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_add_time
from tests.factories import write_time_entry


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/delete/"


def test_the_draft_goes_and_its_time_is_unbilled(cast, login_as, jane, draft):
    entry = write_time_entry(jane, cast.sam)
    with tenant_context(cast.alpha):
        invoice_add_time(invoice=draft, by=cast.sam)

    response = login_as(cast.sam).post(_url(draft))

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{jane.uuid}/?tab=invoices"
    with tenant_context(cast.alpha):
        assert not Invoice.objects.filter(pk=draft.pk).exists()
        entry.refresh_from_db()
    assert entry.invoice_line_id is None


def test_an_issued_invoice_is_not_deleted(cast, login_as, issued):
    response = login_as(cast.sam).post(_url(issued), follow=True)

    assert "is issued and cannot be changed: void it" in response.content.decode()
    with tenant_context(cast.alpha):
        assert Invoice.objects.filter(pk=issued.pk).exists()


def test_read_only_gets_403(cast, login_as, draft):
    assert login_as(cast.rita).post(_url(draft)).status_code == 403
    with tenant_context(cast.alpha):
        assert Invoice.objects.filter(pk=draft.pk).exists()
