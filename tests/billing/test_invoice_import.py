"""`invoice_import`: an invoice the firm issued elsewhere (its QuickBooks
company) recorded as issued here, on the firm's one invoice counter, never
emailed, its figures refused when they do not add up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import ImportedLine, invoice_import
from tests.factories import make_billing_contact, make_client, make_issued_invoice

LINES = [ImportedLine("Payroll", Decimal("3"), Decimal("40"), Decimal("120"))]


def test_it_takes_the_next_number_and_queues_no_email(
    cast, jane, django_capture_on_commit_callbacks
):
    make_billing_contact(jane, "ap@jane.test")
    make_issued_invoice(jane, cast.alice)  # INV-00001

    with tenant_context(cast.alpha), django_capture_on_commit_callbacks() as queued:
        invoice = invoice_import(
            organization=cast.alpha,
            client=jane,
            lines=LINES,
            total=Decimal("120"),
            issue_date=date(2026, 11, 2),
        )

    assert queued == []  # no email, no PDF job
    assert (invoice.display_number, invoice.status) == ("INV-00002", "sent")
    assert invoice.sent_at is None
    assert invoice.due_date == date(2026, 12, 2)  # the firm's 30 days' terms
    assert invoice.balance == Decimal("120.00")


def test_figures_that_do_not_add_up_and_other_firms_clients_are_refused(cast, jane):
    bolt = make_client(cast.beta, "Bolt Inc")

    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="do not make its total"):
            invoice_import(
                organization=cast.alpha,
                client=jane,
                lines=LINES,
                total=Decimal("125"),
                issue_date=date(2026, 11, 2),
            )
        with pytest.raises(ValidationError, match="client of this firm"):
            invoice_import(
                organization=cast.alpha,
                client=bolt,
                lines=LINES,
                total=Decimal("120"),
                issue_date=date(2026, 11, 2),
            )
        assert not Invoice.objects.exists()
