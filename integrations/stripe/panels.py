"""What integrations.stripe adds to billing's pages (registered in its AppConfig).

The staff invoice page offers the slot "invoice_detail"
(`{% panels "invoice_detail" invoice %}`): this panel refunds its Stripe
payments through Stripe, or, with no Stripe connected, says how clients could
pay online.
"""

from __future__ import annotations

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.tenancy.models import Role
from billing.models import Invoice, Payment, PaymentStatus
from integrations.stripe.forms import StripeRefundForm
from integrations.stripe.services import stripe_account_of
from integrations.stripe.views import REFUND_ROLE


def invoice_stripe_context(request: HttpRequest, invoice: Invoice) -> dict | None:
    membership = getattr(request, "membership", None)
    if membership is None or invoice.is_draft:
        return None
    # Query: the firm's Stripe account.
    account = stripe_account_of(invoice.organization_id)
    if account is None or not account.is_ready:
        return {
            "invoice": invoice,
            "stripe_ready": False,
            "can_connect": membership.has_role(Role.ADMIN),
        }
    payments = []
    if membership.has_role(REFUND_ROLE):
        # Query: the invoice's payments through Stripe.
        payments = [
            p
            for p in Payment.objects.filter(
                organization_id=invoice.organization_id,
                invoice=invoice,
                status=PaymentStatus.SUCCEEDED,
            )
            .exclude(stripe_payment_intent="")
            .order_by("received_on", "pk")
            if p.refundable > 0
        ]
    return {
        "invoice": invoice,
        "stripe_ready": True,
        "refundable_payments": payments,
        "refund_form": StripeRefundForm(),
        "overpaid": max(
            invoice.amount_paid + invoice.amount_credited - invoice.total, 0
        ),
    }


def register() -> None:
    register_panel(
        "invoice_detail",
        template="integrations/stripe/panels/invoice_stripe.html",
        context=invoice_stripe_context,
    )
