"""Builders for the Stripe tests (rows through the services)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client as HttpClient
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice
from clients.models import Contact
from integrations.stripe.checkout import checkout_start
from integrations.stripe.models import CheckoutSession, StripeAccount, StripeEvent
from integrations.stripe.services import stripe_account_save
from tests.standins.stripe import Account, StripeStandin

RETURN_URL = "http://testserver/p/alpha/invoices/x/"


@dataclass
class StripeFirm:
    organization: Organization
    account: StripeAccount
    remote: Account  # the account at the stand-in
    standin: StripeStandin
    url: str  # its webhook address

    def refresh(self) -> StripeFirm:
        with tenant_context(self.organization):
            self.account = StripeAccount.objects.get(pk=self.account.pk)
        return self

    def events(self) -> list[StripeEvent]:
        with tenant_context(self.organization):
            return list(
                StripeEvent.objects.filter(organization=self.organization).order_by(
                    "pk"
                )
            )


def connect(organization, by, standin, webhook_target, *, name: str) -> StripeFirm:
    remote = standin.add_account(name=name)
    with tenant_context(organization):
        account = stripe_account_save(
            organization=organization,
            secret_key=remote.secret_key,
            webhook_secret=remote.webhook_secret,
            accept_cards=True,
            accept_ach=True,
            by=by,
        )
    url = reverse("stripe_webhooks:receive", args=[account.webhook_token])
    remote.webhook_target = webhook_target(url)
    return StripeFirm(organization, account, remote, standin, url)


def start(invoice: Invoice, contact: Contact) -> CheckoutSession:
    with tenant_context(invoice.organization):
        return checkout_start(invoice=invoice, contact=contact, return_url=RETURN_URL)


def fresh(invoice: Invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


def payments_of(invoice: Invoice) -> list:
    with tenant_context(invoice.organization):
        return list(invoice.payments.order_by("pk"))


def django_webhook_target(url: str, capture_on_commit):
    """A webhook target for the stand-in that posts to `url` through Django's
    test client and runs what the request queued on commit (the job, in
    django-q2's sync mode). `capture_on_commit`: pytest-django's
    `django_capture_on_commit_callbacks`."""
    http = HttpClient()

    def post(body: bytes, headers: dict) -> int:
        with capture_on_commit(execute=True):
            response = http.post(
                url,
                body,
                content_type="application/json",
                headers={"Stripe-Signature": headers["Stripe-Signature"]},
            )
        return response.status_code

    return post
