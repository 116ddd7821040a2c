"""Voids both ways: an invoice voided here is voided in QuickBooks (with the
SyncToken last read); one voided in QuickBooks is voided here when nothing
was paid or credited on it, and is a conflict otherwise."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.services.invoices import invoice_void
from billing.services.payments import payment_record
from integrations.quickbooks.models import QuickBooksLink, SyncIssue
from integrations.quickbooks.sync import VOID_CONFLICT, sync_issue_resolve
from tests.factories import make_issued_invoice
from tests.integrations.quickbooks.conftest import FIRM_REALM, sync

API = f"/v3/company/{FIRM_REALM}/"


@pytest.fixture
def pushed(cast, jane, alpha_books, firm_company):
    """Our invoice of 400, in QuickBooks."""
    invoice = make_issued_invoice(jane, cast.alice, lines=(("Bookkeeping", 1, 400),))
    sync(alpha_books)
    (qbo_id,) = firm_company.entities("Invoice")
    return invoice, qbo_id


def void_requests(standin) -> list:
    return [
        r
        for r in standin.requests_to(API + "invoice", method="POST")
        if r.query.get("operation") == "void"
    ]


def test_an_invoice_voided_here_is_voided_in_quickbooks_once(
    cast, alpha_books, firm_company, intuit_standin, pushed
):
    invoice, qbo_id = pushed
    # Edited there in a field we do not sync, an edit CDC did not report (its
    # time before our cursor): our SyncToken is old and the void is refused once.
    edited = firm_company.touch("Invoice", qbo_id, DueDate="2027-01-31")
    edited["MetaData"]["LastUpdatedTime"] = "2026-01-01T00:00:00+00:00"
    with tenant_context(cast.alpha):
        invoice_void(invoice=invoice, by=cast.alice, reason="Billed twice")

    run = sync(alpha_books)
    again = sync(alpha_books)

    theirs = firm_company.entities("Invoice")[qbo_id]
    assert (theirs["TotalAmt"], theirs["PrivateNote"]) == (0, "Voided")
    stale, done = void_requests(intuit_standin)  # read again, then voided
    assert (stale.status, done.status) == (400, 200)
    assert json.loads(done.body) == {"Id": qbo_id, "SyncToken": "1"}
    assert run.counts["Invoice"]["pushed"] == 1
    assert again.counts["Invoice"] == {"unchanged": 1}
    assert len(void_requests(intuit_standin)) == 2
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Invoice")
        assert not SyncIssue.objects.exists()
    assert (link.state, link.sync_token) == ("synced", theirs["SyncToken"])


def test_an_invoice_voided_in_quickbooks_is_voided_here(
    cast, alpha_books, firm_company, intuit_standin, pushed, deliver
):
    invoice, qbo_id = pushed
    firm_company.void("Invoice", qbo_id)

    deliver([intuit_standin.cloud_event(FIRM_REALM, "Invoice", qbo_id, "voided")])
    run = sync(alpha_books)

    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Voided in QuickBooks.")
    assert run.counts["Invoice"] == {"unchanged": 1}  # the webhook did it
    assert void_requests(intuit_standin) == []  # not sent back


def test_a_quickbooks_void_of_an_invoice_with_payments_is_a_conflict(
    cast, alpha_books, firm_company, intuit_standin, pushed
):
    invoice, qbo_id = pushed
    with tenant_context(cast.alpha):
        payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("100"), method="check"
        )
    sync(alpha_books)
    firm_company.void("Invoice", qbo_id)

    run = sync(alpha_books)
    again = sync(alpha_books, full=True)

    assert run.counts["Invoice"] == {"conflicts": 1}
    assert again.counts["Invoice"] == {"skipped": 1}
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        issue = SyncIssue.objects.get()
    assert (invoice.status, invoice.amount_paid) == ("partial", Decimal("100.00"))
    assert (issue.kind, issue.message) == ("conflict", VOID_CONFLICT)
    assert (issue.ours, issue.theirs["void"]) == ({"total": "400.00"}, True)

    with tenant_context(cast.alpha):
        sync_issue_resolve(issue=issue, choice="leave", by=cast.alice)
    after = sync(alpha_books, full=True)

    assert after.counts["Invoice"] == {"unchanged": 1}
    assert void_requests(intuit_standin) == []
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
    assert invoice.status == "partial"
