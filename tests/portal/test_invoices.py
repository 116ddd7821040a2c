"""A client's invoices in the portal: what Joan sees, viewing, paying through the
firm's Stripe Checkout (the stand-in), coming back, the PDF, the home page's
"To pay", and constant queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from billing.links import invoice_link_for
from billing.models import Invoice, InvoiceStatus
from billing.services.invoices import invoice_void
from integrations.stripe.models import StripeAccount
from portal.models import Activity, PortalActivity, PortalGrant
from tests.factories import make_draft_invoice, make_issued_invoice
from tests.integrations.stripe.builders import connect, django_webhook_target

pytestmark = pytest.mark.django_db


def grant(pcast, **capabilities) -> None:
    with tenant_context(pcast.jane.organization):
        PortalGrant.objects.filter(pk=pcast.joan_grant.pk).update(**capabilities)


@pytest.fixture
def payer(pcast):
    """Joan may see and pay Jane's invoices."""
    grant(pcast, can_view_invoices=True, can_pay=True)
    return pcast


@pytest.fixture
def alpha_stripe(cast, stripe_standin, django_capture_on_commit_callbacks):
    return connect(
        cast.alpha,
        cast.alice,
        stripe_standin,
        lambda url: django_webhook_target(url, django_capture_on_commit_callbacks),
        name="Alpha Accounting",
    )


@pytest.fixture
def invoice(cast, pcast) -> Invoice:
    return make_issued_invoice(
        pcast.jane,
        cast.alice,
        lines=(("Tax return 2026", "1", "450"), ("Filing", "2", "25")),
    )


def url(invoice, tail: str = "") -> str:
    return f"/p/alpha/invoices/{invoice.uuid}/{tail}"


def fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


# What Joan sees ------------------------------------------------------------------------


def test_joan_sees_her_clients_issued_invoices_only(cast, payer, joan_portal, invoice):
    draft = make_draft_invoice(payer.jane, cast.alice)
    voided = make_issued_invoice(payer.jane, cast.alice)
    with tenant_context(cast.alpha):
        invoice_void(invoice=voided, by=cast.alice, reason="Duplicate")
    acme = make_issued_invoice(payer.acme, cast.alice)

    page = joan_portal.get("/p/alpha/invoices/").content.decode()

    assert invoice.display_number in page
    assert url(invoice) in page
    assert url(draft) not in page and url(voided) not in page and url(acme) not in page
    assert ">Invoices</a>" in page  # the nav entry
    assert joan_portal.get(url(acme)).status_code == 404
    assert joan_portal.get(url(draft)).status_code == 404


def test_without_the_invoices_capability_there_is_nothing(pcast, joan_portal, invoice):
    page = joan_portal.get("/p/alpha/invoices/").content.decode()

    assert "Your access does not include invoices" in page
    assert ">Invoices</a>" not in joan_portal.get("/p/alpha/home/").content.decode()
    assert joan_portal.get(url(invoice)).status_code == 404


def test_opening_an_invoice_marks_it_viewed_once(payer, joan_portal, invoice):
    page = joan_portal.get(url(invoice)).content.decode()

    viewed = fresh(invoice)
    assert viewed.status == InvoiceStatus.VIEWED
    first = viewed.viewed_at
    assert first is not None
    assert "Tax return 2026" in page and "2 × 25.00" in page
    assert "500.00 USD" in page
    joan_portal.get(url(invoice))
    assert fresh(invoice).viewed_at == first


# Paying --------------------------------------------------------------------------------


def test_without_stripe_the_page_says_payments_are_not_online(
    payer, joan_portal, invoice, stripe_standin
):
    page = joan_portal.get(url(invoice)).content.decode()

    assert 'data-testid="pay"' not in page
    assert "does not take payments online yet" in page
    assert joan_portal.post(url(invoice, "pay/"), follow=True).status_code == 200
    assert stripe_standin.requests == []


def test_a_contact_who_may_not_pay_sees_no_button(
    pcast, joan_portal, invoice, alpha_stripe
):
    grant(pcast, can_view_invoices=True, can_pay=False)

    page = joan_portal.get(url(invoice)).content.decode()

    assert 'data-testid="pay"' not in page
    assert "does not include paying invoices" in page
    assert joan_portal.post(url(invoice, "pay/")).status_code == 403


def test_pay_sends_joan_to_the_firms_checkout(
    payer, joan_portal, invoice, alpha_stripe
):
    page = joan_portal.get(url(invoice))
    assert 'data-testid="pay"' in page.content.decode()
    assert alpha_stripe.standin.url in page["Content-Security-Policy"]

    response = joan_portal.post(url(invoice, "pay/"))

    assert response.status_code == 302
    assert response.url.startswith(f"{alpha_stripe.standin.url}/checkout/cs_test_")
    (created,) = alpha_stripe.standin.requests_to("/v1/checkout/sessions", "POST")
    assert created.params["success_url"] == (
        f"http://testserver{url(invoice)}?checkout=success"
    )
    assert created.params["customer_email"] == "joan@client.test"


def test_coming_back_after_a_card_payment_shows_it_paid(
    payer, joan_portal, invoice, alpha_stripe
):
    checkout = joan_portal.post(url(invoice, "pay/")).url
    session_id = checkout.rsplit("/", 1)[1]
    alpha_stripe.standin.complete_checkout(session_id, "card", deliver=True)

    page = joan_portal.get(url(invoice) + "?checkout=success").content.decode()

    assert "your payment was received and the invoice is paid" in page
    assert ">Paid<" in page and "Received" in page
    assert 'data-testid="pay"' not in page


def test_coming_back_after_a_bank_payment_shows_it_processing(
    payer, joan_portal, invoice, alpha_stripe
):
    checkout = joan_portal.post(url(invoice, "pay/")).url
    alpha_stripe.standin.complete_checkout(
        checkout.rsplit("/", 1)[1], "us_bank_account", deliver=True
    )

    page = joan_portal.get(url(invoice) + "?checkout=success").content.decode()

    assert "your bank payment is processing" in page
    assert "Processing" in page
    assert "A bank payment for this invoice is on its way" in page
    assert 'data-testid="pay"' not in page


def test_cancelling_checkout_says_nothing_was_charged(
    payer, joan_portal, invoice, alpha_stripe
):
    page = joan_portal.get(url(invoice) + "?checkout=cancel").content.decode()

    assert "nothing was charged" in page
    assert 'data-testid="pay"' in page


def test_stripe_refusing_is_shown_on_the_invoice(
    payer, joan_portal, invoice, alpha_stripe
):
    alpha_stripe.standin.fail_next("/v1/checkout/sessions", status=500)

    page = joan_portal.post(url(invoice, "pay/"), follow=True).content.decode()

    assert "Stripe refused" in page
    assert f"Invoice {invoice.display_number}" in page


def test_the_firm_turning_off_both_methods_hides_the_button(
    cast, payer, joan_portal, invoice, alpha_stripe
):
    with tenant_context(cast.alpha):
        StripeAccount.objects.update(accept_cards=False)
        Invoice.objects.filter(pk=invoice.pk).update(currency="EUR")

    page = joan_portal.get(url(invoice)).content.decode()

    assert 'data-testid="pay"' not in page
    assert "does not take payments online yet" in page


# The PDF, the home page, the emails' link ------------------------------------------------


def test_the_pdf_is_served_from_the_stored_file(payer, joan_portal, invoice, cast):
    with tenant_context(cast.alpha):
        stored = fresh(invoice)
        stored.pdf.save("invoices/inv-1.pdf", ContentFile(b"%PDF-1.4 test"), save=True)

    assert 'data-testid="invoice-pdf"' in joan_portal.get(url(invoice)).content.decode()
    response = joan_portal.get(url(invoice, "pdf/"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"


def test_a_missing_pdf_is_drawn_again_and_stored(payer, joan_portal, invoice, cast):
    """No stored file (never made, or lost): the client still gets the PDF, and
    the next request reads the stored one."""
    assert not fresh(invoice).pdf

    response = joan_portal.get(url(invoice, "pdf/"))

    assert response.status_code == 200
    body = (
        response.content
        if not response.streaming
        else b"".join(response.streaming_content)
    )
    assert body.startswith(b"%PDF-")
    assert fresh(invoice).pdf.name


def test_viewing_and_opening_the_pdf_are_recorded(payer, joan_portal, invoice, cast):
    joan_portal.get(url(invoice))
    joan_portal.get(url(invoice, "pdf/"))

    with tenant_context(cast.alpha):
        rows = list(
            PortalActivity.objects.filter(contact=payer.joan)
            .order_by("pk")
            .values_list("action", "summary", "detail")
        )
        events = set(
            AuditEvent.objects.filter(organization=cast.alpha).values_list(
                "action", flat=True
            )
        )
    actions = [action for action, _, _ in rows]
    assert actions[-2:] == [Activity.INVOICE_VIEWED, Activity.INVOICE_DOWNLOADED]
    assert all(detail["invoice"] == str(invoice.uuid) for *_, detail in rows[-2:])
    assert invoice.display_number in rows[-1][1]
    assert {
        AuditAction.PORTAL_INVOICE_VIEWED,
        AuditAction.PORTAL_INVOICE_DOWNLOADED,
    } <= events


def test_a_draft_has_no_pdf_for_the_client(payer, joan_portal, cast):
    draft = make_draft_invoice(payer.jane, cast.alice)

    assert joan_portal.get(url(draft, "pdf/")).status_code == 404


def test_home_lists_what_is_left_to_pay(cast, payer, joan_portal, invoice):
    paid = make_issued_invoice(payer.jane, cast.alice)
    with tenant_context(cast.alpha):
        from billing.services.payments import payment_record

        payment_record(
            invoice=paid, by=cast.alice, amount=Decimal("500"), method="wire"
        )

    page = joan_portal.get("/p/alpha/home/").content.decode()

    assert 'data-testid="home-to-pay"' in page
    assert url(invoice) in page and url(paid) not in page


def test_billings_emails_link_to_the_portal_invoice(cast, payer, invoice):
    with tenant_context(cast.alpha):
        assert invoice_link_for(invoice=invoice) == (
            f"http://127.0.0.1:8000{url(invoice)}"
        )
        PortalGrant.objects.update(can_view_invoices=False)
        assert invoice_link_for(invoice=invoice) == ""


# Queries ---------------------------------------------------------------------------------


def _queries(http, address: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(address)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def test_the_list_reads_the_same_queries_at_two_sizes(cast, payer, joan_portal):
    for _ in range(2):
        make_issued_invoice(payer.jane, cast.alice)
    small = _queries(joan_portal, "/p/alpha/invoices/")
    for _ in range(8):
        make_issued_invoice(payer.jane, cast.alice)
    assert _queries(joan_portal, "/p/alpha/invoices/") == small
    assert _queries(joan_portal, "/p/alpha/home/") == _queries(
        joan_portal, "/p/alpha/home/"
    )


def test_the_invoice_page_reads_the_same_queries_at_two_sizes(
    cast, payer, joan_portal, alpha_stripe
):
    short = make_issued_invoice(payer.jane, cast.alice)
    long = make_issued_invoice(
        payer.jane, cast.alice, lines=[(f"Line {i}", "1", "10") for i in range(12)]
    )
    joan_portal.get(url(short))
    joan_portal.get(url(long))  # both viewed: the first view writes
    assert _queries(joan_portal, url(short)) == _queries(joan_portal, url(long))
