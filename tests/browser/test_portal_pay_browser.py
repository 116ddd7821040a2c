"""A client pays an invoice on a phone (390 x 844): signs in to the portal, opens
the invoice, pays on the firm's Stripe Checkout (the stand-in's hosted page,
which posts the signed events to the firm's webhook on the live server), comes
back, and the invoice is paid. The webhook's job runs in django-q2's sync mode
inside the webhook's request, as a worker would run it right after."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice, InvoiceStatus, PaymentStatus
from integrations.stripe.services import stripe_account_save
from tests.browser.axe import assert_fits_and_accessible
from tests.factories import PASSWORD, make_client, make_issued_invoice
from tests.portal.builders import make_contact, make_grant, make_portal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_pays_an_invoice_by_card_on_a_phone(
    cast, phone, console_errors, live_server, stripe_standin
):
    organization = cast.alpha
    jane = make_client(organization, "Jane Doe", partner=cast.alice)
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    make_grant(joan, jane, can_view_invoices=True, can_pay=True)
    make_portal_account("joan@client.test", PASSWORD)
    invoice = make_issued_invoice(
        jane, cast.alice, lines=(("Tax return 2026", "1", "850"),)
    )
    remote = stripe_standin.add_account(name="Alpha Accounting")
    with tenant_context(organization):
        account = stripe_account_save(
            organization=organization,
            secret_key=remote.secret_key,
            webhook_secret=remote.webhook_secret,
            accept_cards=True,
            accept_ach=True,
            by=cast.alice,
        )
    # The firm pasted its webhook address into Stripe.
    remote.webhook_target = live_server.url + reverse(
        "stripe_webhooks:receive", args=[account.webhook_token]
    )

    phone.goto("/p/alpha/")
    phone.get_by_label("Email address").fill("joan@client.test")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/p/alpha/home/")
    expect(phone.get_by_test_id("home-to-pay")).to_contain_text("850.00 USD")
    assert_fits_and_accessible(phone)

    phone.get_by_role("link", name=f"Invoice {invoice.display_number}").click()
    expect(
        phone.get_by_role("heading", name=f"Invoice {invoice.display_number}")
    ).to_be_visible()
    assert_fits_and_accessible(phone)
    phone.get_by_test_id("pay").click()

    # Stripe's page (the stand-in's), on its own origin.
    phone.wait_for_url(f"{stripe_standin.url}/checkout/**")
    expect(phone.get_by_test_id("amount")).to_have_text("850.00 USD")
    phone.get_by_role("button", name="Pay by card").click()

    phone.wait_for_url("**/p/alpha/invoices/*/?checkout=success")
    expect(phone.get_by_test_id("payment-result")).to_contain_text(
        "the invoice is paid"
    )
    assert_fits_and_accessible(phone)
    assert console_errors == [], console_errors

    with tenant_context(organization):
        paid = Invoice.objects.get(pk=invoice.pk)
        (payment,) = paid.payments.all()
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, Decimal("850.00"))
    assert (payment.status, payment.method) == (PaymentStatus.SUCCEEDED, "card")
    (delivered,) = [
        d for d in remote.deliveries if d.type == "checkout.session.completed"
    ]
    assert delivered.status == 200
