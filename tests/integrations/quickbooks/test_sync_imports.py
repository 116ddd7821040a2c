"""An invoice made in QuickBooks for a customer linked to one of our clients
is issued here (our next number, QuickBooks' in its memo) with its lines,
tax and dates, once however often it is read; later changes there follow the
usual rules, and payments made there against it are recorded here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice, Payment
from integrations.quickbooks.models import QuickBooksLink, SyncIssue
from tests.integrations.quickbooks.conftest import FIRM_REALM, connect, sync

API = f"/v3/company/{FIRM_REALM}/"
BETA_REALM = "3003"


def qbo_invoice(company, customer_id: str, **fields) -> dict:
    """An invoice a person made in QuickBooks: two items, a subtotal line,
    8.00 of tax."""
    made = {
        "CustomerRef": {"value": customer_id},
        "DocNumber": "1042",
        "TxnDate": "2026-11-02",
        "DueDate": "2026-12-02",
        "CustomerMemo": {"value": "Thank you for your business."},
        "TxnTaxDetail": {"TotalTax": 8},
        "TotalAmt": 358,
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 300,
                "Description": "Monthly bookkeeping",
                "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 150},
            },
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 50,
                "SalesItemLineDetail": {"ItemRef": {"value": "7", "name": "Filing"}},
            },
            {"DetailType": "SubTotalLineDetail", "Amount": 350},
        ],
    }
    return company.add("Invoice", **{**made, **fields})


def invoices_of(org) -> list[Invoice]:
    with tenant_context(org):
        return list(Invoice.objects.select_related("client").prefetch_related("lines"))


@pytest.fixture
def imported(cast, alpha_books, firm_company):
    customer = firm_company.add("Customer", DisplayName="Acme Ltd")
    theirs = qbo_invoice(firm_company, customer["Id"])
    run = sync(alpha_books)
    (invoice,) = invoices_of(cast.alpha)
    return run, invoice, theirs


def test_an_invoice_made_in_quickbooks_is_issued_here_with_its_lines_and_dates(
    cast, imported
):
    run, invoice, theirs = imported

    assert run.counts["Invoice"] == {"created": 1}
    assert invoice.client.display_name == "Acme Ltd"
    assert (invoice.display_number, invoice.status) == ("INV-00001", "sent")
    assert invoice.sent_at is None  # never emailed by us
    assert (invoice.issue_date, invoice.due_date) == (
        date(2026, 11, 2),
        date(2026, 12, 2),
    )
    assert invoice.memo == "QuickBooks invoice 1042\nThank you for your business."
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("350.00"),
        Decimal("8.00"),
        Decimal("358.00"),
    )
    assert [
        (line.description, line.quantity, line.unit_price, line.amount)
        for line in invoice.lines.all()
    ] == [
        ("Monthly bookkeeping", Decimal("2.00"), Decimal("150.00"), Decimal("300.00")),
        ("Filing", Decimal("1.00"), Decimal("50.00"), Decimal("50.00")),
    ]
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Invoice")
    assert (link.invoice_id, link.qbo_id, link.state) == (
        invoice.pk,
        theirs["Id"],
        "synced",
    )


def test_an_imported_invoice_is_imported_once_by_runs_cdc_and_webhooks(
    cast, alpha_books, firm_company, intuit_standin, imported, deliver
):
    _, invoice, theirs = imported
    # Changed in a field we do not sync: CDC and webhooks bring it again.
    firm_company.touch("Invoice", theirs["Id"], DueDate="2026-12-09")

    again = sync(alpha_books)
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Invoice", theirs["Id"])])
    full = sync(alpha_books, full=True)

    assert again.kind == "incremental"
    assert again.counts["Invoice"] == {"unchanged": 1}
    assert full.counts["Invoice"] == {"unchanged": 1}
    assert [i.pk for i in invoices_of(cast.alpha)] == [invoice.pk]
    # Ours came from there: it is not written back.
    assert intuit_standin.requests_to(API + "invoice", method="POST") == []


def test_a_later_amount_change_in_quickbooks_is_a_conflict_not_an_edit(
    cast, alpha_books, firm_company, imported
):
    _, invoice, theirs = imported
    firm_company.touch("Invoice", theirs["Id"], TotalAmt=400)

    run = sync(alpha_books)

    assert run.counts["Invoice"] == {"conflicts": 1}
    (again,) = invoices_of(cast.alpha)
    assert again.total == Decimal("358.00")
    with tenant_context(cast.alpha):
        issue = SyncIssue.objects.get()
    assert (issue.kind, issue.label) == ("conflict", "INV-00001")
    assert (issue.ours, issue.theirs["total"]) == ({"total": "358.00"}, "400.00")


def test_a_payment_made_in_quickbooks_against_an_imported_invoice_is_recorded(
    cast, alpha_books, firm_company, imported
):
    _, invoice, theirs = imported
    firm_company.add(
        "Payment",
        CustomerRef=theirs["CustomerRef"],
        TotalAmt=358,
        TxnDate="2026-11-20",
        Line=[
            {
                "Amount": 358,
                "LinkedTxn": [{"TxnId": theirs["Id"], "TxnType": "Invoice"}],
            }
        ],
    )

    run = sync(alpha_books)
    sync(alpha_books, full=True)

    assert run.counts["Payment"] == {"created": 1}
    with tenant_context(cast.alpha):
        (payment,) = Payment.objects.all()
        invoice.refresh_from_db()
    assert (payment.amount, payment.received_on) == (
        Decimal("358.00"),
        date(2026, 11, 20),
    )
    assert invoice.status == "paid"


def test_an_invoice_that_cannot_be_imported_waits_in_the_error_queue(
    cast, alpha_books, firm_company
):
    gone = firm_company.add("Customer", DisplayName="Old Co", Active=False)
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    orphan = qbo_invoice(firm_company, gone["Id"])
    wrong = qbo_invoice(firm_company, acme["Id"], TotalAmt=999)

    run = sync(alpha_books)

    assert run.status == "partial"
    assert invoices_of(cast.alpha) == []
    with tenant_context(cast.alpha):
        issues = {i.key: i for i in SyncIssue.objects.filter(entity="Invoice")}
    assert set(issues) == {orphan["Id"], wrong["Id"]}
    assert "is not linked to a client here yet" in issues[orphan["Id"]].message
    assert "do not make its total (999.00)" in issues[wrong["Id"]].message


def test_an_import_happens_in_the_firm_of_the_connection_only(
    cast, alpha_books, firm_company, intuit_standin
):
    beta_company = intuit_standin.add_company(BETA_REALM, name="Beta Bookkeeping")
    beta_books = connect(cast.beta, cast.oscar, intuit_standin, BETA_REALM)
    # Both companies number alike: the same customer and invoice ids.
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    bolt = beta_company.add("Customer", DisplayName="Bolt Inc")
    ours = qbo_invoice(firm_company, acme["Id"])
    theirs = qbo_invoice(
        beta_company,
        bolt["Id"],
        TotalAmt=108,
        Line=[{"DetailType": "SalesItemLineDetail", "Amount": 100}],
    )
    assert (ours["Id"], acme["Id"]) == (theirs["Id"], bolt["Id"])

    sync(alpha_books)
    sync(beta_books)

    alpha = invoices_of(cast.alpha)
    beta = invoices_of(cast.beta)
    assert [(i.client.display_name, i.total) for i in alpha] == [
        ("Acme Ltd", Decimal("358.00"))
    ]
    assert [(i.client.display_name, i.total) for i in beta] == [
        ("Bolt Inc", Decimal("108.00"))
    ]
    # Each firm numbers its own invoices.
    assert [i.number for i in alpha + beta] == [1, 1]


def test_an_invoice_with_no_date_is_issued_on_the_firms_day(
    cast, alpha_books, firm_company
):
    # A zone whose day differs from UTC's at this moment, whatever it is.
    zone = "Etc/GMT+12" if timezone.now().hour < 12 else "Pacific/Kiritimati"
    with tenant_context(cast.alpha):
        Organization.objects.filter(pk=cast.alpha.pk).update(timezone=zone)
        cast.alpha.refresh_from_db()
    alpha_books.organization = cast.alpha
    customer = firm_company.add("Customer", DisplayName="Acme Ltd")
    qbo_invoice(firm_company, customer["Id"], TxnDate=None, DueDate=None)

    sync(alpha_books)

    (invoice,) = invoices_of(cast.alpha)
    assert invoice.issue_date == firm_today(cast.alpha)
    assert invoice.issue_date != timezone.now().date()


def test_a_unit_price_finer_than_a_cent_is_imported_as_one_of_its_amount(
    cast, alpha_books, firm_company
):
    customer = firm_company.add("Customer", DisplayName="Acme Ltd")
    qbo_invoice(
        firm_company,
        customer["Id"],
        TxnTaxDetail={"TotalTax": 0},
        TotalAmt=100,
        Line=[
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 100,
                "Description": "Three reviews",
                "SalesItemLineDetail": {"Qty": 3, "UnitPrice": "33.333333"},
            }
        ],
    )

    sync(alpha_books)

    (invoice,) = invoices_of(cast.alpha)
    ((quantity, unit_price, amount),) = [
        (line.quantity, line.unit_price, line.amount) for line in invoice.lines.all()
    ]
    # Kept as a line whose quantity times price is its amount.
    assert quantity * unit_price == amount == Decimal("100.00")
