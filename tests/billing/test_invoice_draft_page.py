"""A draft's page: its lines with write-ups and write-downs, the client's
unbilled time to tick, the forms for fees and terms, and who may do what."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.services.invoices import invoice_add_time, invoice_line_update
from clients.models import Engagement
from tests.factories import make_client, make_draft_invoice, write_time_entry

D = Decimal


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/"


def test_it_shows_the_lines_totals_and_actions(cast, login_as, draft):
    html = login_as(cast.sam).get(_url(draft)).content.decode()

    assert "Draft invoice" in html
    assert "Tax return" in html and "500.00" in html
    assert f"/o/alpha/billing/invoices/{draft.uuid}/issue/" in html
    assert f"/o/alpha/billing/invoices/{draft.uuid}/delete/" in html
    assert f"/o/alpha/billing/invoices/{draft.uuid}/pdf/" in html
    assert 'data-testid="add-line"' in html and 'data-testid="invoice-terms"' in html


def test_it_lists_the_clients_unbilled_time_ticked_with_its_value(
    cast, login_as, jane, draft
):
    entry = write_time_entry(
        jane, cast.sam, minutes=90, rate="200", description="Scanned receipts"
    )
    write_time_entry(jane, cast.sam, minutes=30, rate="100", billable=False)
    write_time_entry(make_client(cast.alpha, "Other"), cast.sam, minutes=60)

    response = login_as(cast.sam).get(_url(draft))
    html = response.content.decode()

    assert [e.pk for e in response.context["unbilled_entries"]] == [entry.pk]
    assert f'name="entries" value="{entry.uuid}"' in html
    assert "Scanned receipts" in html
    assert response.context["unbilled"].value == D("300.00")
    assert "1 entry, 1.50 h worth 300.00 USD" in html


def test_a_write_down_shows_with_its_reason(cast, login_as, jane, draft):
    write_time_entry(jane, cast.sam, minutes=120, rate="150")
    with tenant_context(cast.alpha):
        (line,) = invoice_add_time(invoice=draft, by=cast.sam)
        invoice_line_update(
            line=line,
            by=cast.sam,
            amount=D("250"),
            adjustment_reason="Learning curve",
        )

    html = login_as(cast.sam).get(_url(draft)).content.decode()

    assert 'data-testid="adjustment">-50.00<' in html
    assert "of 300.00: Learning curve" in html


def test_a_read_only_member_sees_the_draft_without_its_forms(cast, login_as, draft):
    html = login_as(cast.rita).get(_url(draft)).content.decode()

    assert "Tax return" in html
    assert "/issue/" not in html and 'data-testid="add-line"' not in html
    assert "/remove/" not in html


def test_another_firm_gets_404(cast, login_as, draft):
    assert login_as(cast.oscar).get(_url(draft)).status_code == 404
    response = login_as(cast.oscar).get(f"/o/beta/billing/invoices/{draft.uuid}/")
    assert response.status_code == 404


def test_the_query_count_does_not_grow_with_lines_or_time(
    cast, login_as, jane, django_assert_num_queries
):
    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=jane,
            name="2026 books",
            engagement_type="bookkeeping",
        )
    draft = make_draft_invoice(jane, cast.sam, engagement=engagement)
    web = login_as(cast.alice)
    web.get(_url(draft))
    for extra in (1, 12):
        for i in range(extra):
            write_time_entry(jane, cast.sam, engagement=engagement, description=f"W{i}")
        with tenant_context(cast.alpha):
            invoice_add_time(
                invoice=draft,
                by=cast.sam,
                entries=list(draft.client.time_entries.all()[: extra // 2 or 1]),
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms, 5 the invoice with its client and engagement, 6 its
        # lines, 7 the client's engagements, 8 the first unbilled entries, 9 the
        # unbilled totals, 10 reset the RLS context.
        with django_assert_num_queries(10):
            response = web.get(_url(draft))
        assert response.status_code == 200
    assert len(response.context["lines"]) > 2
