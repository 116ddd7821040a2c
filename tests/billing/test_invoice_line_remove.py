"""Removing a draft's line: its time is unbilled again; an issued line stays."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from billing.services.invoices import invoice_add_time
from tests.factories import write_time_entry


def _url(line) -> str:
    return f"/o/alpha/billing/invoices/lines/{line.uuid}/remove/"


def test_a_time_line_goes_and_its_entries_are_unbilled(cast, login_as, jane, draft):
    entry = write_time_entry(jane, cast.sam)
    with tenant_context(cast.alpha):
        (line,) = invoice_add_time(invoice=draft, by=cast.sam)

    response = login_as(cast.sam).post(_url(line), follow=True)

    with tenant_context(cast.alpha):
        entry.refresh_from_db()
        assert draft.lines.count() == 1
    assert entry.invoice_line_id is None
    assert "Line removed. Its time is unbilled again." in response.content.decode()


def test_an_issued_invoices_line_stays(cast, login_as, issued):
    with tenant_context(cast.alpha):
        line = issued.lines.get()

    response = login_as(cast.sam).post(_url(line), follow=True)

    assert "is issued and cannot be changed" in response.content.decode()
    with tenant_context(cast.alpha):
        assert issued.lines.count() == 1


def test_a_get_is_not_allowed_and_read_only_gets_403(cast, login_as, draft):
    with tenant_context(cast.alpha):
        line = draft.lines.get()

    assert login_as(cast.sam).get(_url(line)).status_code == 405
    assert login_as(cast.rita).post(_url(line)).status_code == 403
