"""A staff member bills a client's unbilled time in Chromium: from the client's
Invoices tab to a draft holding the time, a write-down on one line, then Issue;
the invoice is INV-00001, its PDF is served, and the client's billing contact
gets it by email. A double click issues it once, and Issue clicked again in a
tab left on the draft is told it is already issued. The CSP stays quiet."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from clients.models import Engagement
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_billing_contact, make_client, write_time_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(cast, settings, tmp_path):
    """Acme Widgets with three unbilled entries of Sam's on its bookkeeping."""
    settings.MEDIA_ROOT = str(tmp_path)
    client = make_client(cast.alpha, "Acme Widgets", partner=cast.alice, staff=cast.sam)
    make_billing_contact(client, "ap@acme.test")
    with tenant_context(cast.alpha):
        books = Engagement.objects.create(
            organization=cast.alpha,
            client=client,
            name="2026 bookkeeping",
            engagement_type="bookkeeping",
        )
    for minutes, what in ((90, "Bank reconciliation"), (60, "Payroll"), (30, "Call")):
        write_time_entry(
            client,
            cast.sam,
            minutes=minutes,
            rate="120",
            engagement=books,
            description=what,
        )
    return client


def test_staff_bill_unbilled_time_and_issue_the_invoice(cast, page, acme):
    sign_in(page, cast.sam.email, PASSWORD, lands_on="**/o/alpha/")
    page.goto(f"/o/alpha/clients/{acme.uuid}/?tab=invoices")
    expect(page.get_by_test_id("client-unbilled")).to_contain_text("3 h")

    page.get_by_test_id("bill-unbilled-time").click()

    expect(
        page.get_by_role("heading", name=re.compile("Draft invoice"))
    ).to_be_visible()
    lines = page.get_by_test_id("line-row")
    expect(lines).to_have_count(3)
    expect(page.get_by_test_id("invoice-total")).to_have_text("360.00 USD")
    expect(page.get_by_test_id("no-unbilled-time")).to_be_visible()

    # Write the call down to nothing billed extra: 40 instead of 60.
    lines.filter(has_text="Call").get_by_role("link", name=re.compile("Edit")).click()
    page.get_by_label("Bill instead").fill("40")
    page.get_by_label("Reason for the write-up or write-down").fill("Short call")
    page.get_by_role("button", name="Save the line").click()
    expect(page.get_by_test_id("adjustment")).to_have_text("-20.00")
    expect(page.get_by_test_id("invoice-total")).to_have_text("340.00 USD")

    # A second tab left on the draft, to click Issue again once it is issued.
    stale = page.context.new_page()
    stale.goto(page.url)
    page.get_by_test_id("issue").dblclick()

    expect(page.get_by_test_id("invoice-number")).to_have_text("INV-00001")
    expect(page.get_by_test_id("invoice-status")).to_have_text("Sent")
    expect(page.get_by_test_id("balance")).to_have_text("340.00 USD")
    with tenant_context(cast.alpha):
        (invoice,) = Invoice.objects.filter(organization=cast.alpha)
    assert (invoice.number, invoice.total) == (1, Decimal("340.00"))
    assert invoice.sent_at is not None
    (message,) = mail.outbox
    assert message.to == ["ap@acme.test"]
    assert message.attachments[0][0] == "INV-00001.pdf"

    pdf = page.request.get(f"/o/alpha/billing/invoices/{invoice.uuid}/pdf/")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    stale.get_by_test_id("issue").click()
    expect(stale.locator(".flash-info")).to_have_text("INV-00001 is already issued.")
    expect(stale.get_by_test_id("invoice-number")).to_have_text("INV-00001")
    assert page.console_errors == []
