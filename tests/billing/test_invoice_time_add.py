"""Unbilled time onto a draft: the entries ticked or all of them, a line per entry
or per engagement; never another client's time, never time billed already."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import InvoiceLine, TimeEntry
from clients.models import Engagement
from tests.factories import make_client, make_draft_invoice, write_time_entry

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/time/"


def _lines(invoice) -> list[InvoiceLine]:
    with tenant_context(invoice.organization):
        return list(invoice.lines.order_by("position"))


def test_it_adds_the_ticked_entries_a_line_each(cast, login_as, jane, draft):
    one = write_time_entry(jane, cast.sam, minutes=90, rate="200", description="Books")
    write_time_entry(jane, cast.sam, minutes=30, rate="100", description="Left out")

    response = login_as(cast.sam).post(
        _url(draft), {"entries": [str(one.uuid)]}, follow=True
    )

    fee, time = _lines(draft)
    assert time.kind == "time" and time.amount == D("300.00")
    assert time.quantity == D("1.50") and "Books" in time.description
    with tenant_context(cast.alpha):
        one.refresh_from_db()
        assert one.invoice_line_id == time.pk
        assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 1
    assert "Time added: 1 line." in response.content.decode()


def test_add_all_groups_by_engagement_when_asked(cast, login_as, jane, draft):
    with tenant_context(cast.alpha):
        books = Engagement.objects.create(
            organization=cast.alpha,
            client=jane,
            name="2026 books",
            engagement_type="bookkeeping",
        )
    for minutes in (60, 30):
        write_time_entry(jane, cast.sam, minutes=minutes, rate="100", engagement=books)
    write_time_entry(jane, cast.sam, minutes=60, rate="100")

    login_as(cast.sam).post(_url(draft), {"add_all": "1", "group_by_engagement": "1"})

    time_lines = [line for line in _lines(draft) if line.kind == "time"]
    assert sorted(line.amount for line in time_lines) == [D("100.00"), D("150.00")]
    assert any("2026 books: 2 time entries" in line.description for line in time_lines)


def test_nothing_ticked_is_a_form_error(cast, login_as, jane, draft):
    write_time_entry(jane, cast.sam)

    response = login_as(cast.sam).post(_url(draft), {})

    assert response.status_code == 200
    assert "Tick the time entries to add." in response.content.decode()
    assert len(_lines(draft)) == 1


def test_another_clients_entry_cannot_be_slipped_in(cast, login_as, jane, draft):
    other = write_time_entry(make_client(cast.alpha, "Other Co"), cast.sam)

    response = login_as(cast.sam).post(_url(draft), {"entries": [str(other.uuid)]})

    assert "Those time entries are billed already." in response.content.decode()
    with tenant_context(cast.alpha):
        other.refresh_from_db()
    assert other.invoice_line_id is None


def test_time_on_another_draft_is_not_billed_twice(cast, login_as, jane, draft):
    entry = write_time_entry(jane, cast.sam)
    other_draft = make_draft_invoice(jane, cast.sam)
    web = login_as(cast.sam)
    web.post(_url(other_draft), {"entries": [str(entry.uuid)]})

    response = web.post(_url(draft), {"entries": [str(entry.uuid)]})

    assert "billed already" in response.content.decode()
    assert len(_lines(draft)) == 1


def test_an_issued_invoice_takes_no_time(cast, login_as, jane, issued):
    entry = write_time_entry(jane, cast.sam)

    response = login_as(cast.sam).post(
        _url(issued), {"entries": [str(entry.uuid)]}, follow=True
    )

    assert "is issued and cannot be changed" in response.content.decode()
    with tenant_context(cast.alpha):
        entry.refresh_from_db()
    assert entry.invoice_line_id is None


def test_read_only_gets_403(cast, login_as, draft):
    assert login_as(cast.rita).post(_url(draft), {"add_all": "1"}).status_code == 403
