"""Stripe pages: the firm's connection page (owners and admins), refunds through
Stripe (managers and above), and the webhook Stripe posts to (no session)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisoros.email import absolute_url
from advisoros.forms import add_service_errors, error_text, form_error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.models import Payment
from integrations.stripe.checkout import payment_refund_through_stripe
from integrations.stripe.events import SUBSCRIBED_EVENTS
from integrations.stripe.forms import StripeAccountForm, StripeRefundForm
from integrations.stripe.models import StripeEvent
from integrations.stripe.services import (
    stripe_account_disconnect,
    stripe_account_of,
    stripe_account_save,
)
from integrations.stripe.webhooks import webhook_receive

RECENT_EVENTS = 10
# Who gives money back through Stripe: a decision about the firm's money.
REFUND_ROLE = Role.MANAGER


@require_role(Role.ADMIN)
def stripe_connection(request: OrgRequest, org_slug: str) -> HttpResponse:
    organization = request.organization
    # Query: the firm's Stripe account, if it connected one.
    account = stripe_account_of(organization)
    initial = (
        {"accept_cards": account.accept_cards, "accept_ach": account.accept_ach}
        if account
        else {"accept_cards": True, "accept_ach": True}
    )
    form = StripeAccountForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        connected=account is not None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = stripe_account_save(
                organization=organization,
                by=request.user,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if account is None:
                messages.success(
                    request,
                    "Stripe accepted the key. Now add the webhook address below in "
                    "Stripe and paste its signing secret here.",
                )
            elif saved.is_ready:
                messages.success(request, "Saved: clients can pay online.")
            else:
                messages.success(request, "Saved.")
            return redirect("stripe:connection", org_slug=organization.slug)
    ctx = {
        "account": account,
        "form": form,
        "webhook_url": absolute_url(
            reverse("stripe_webhooks:receive", args=[account.webhook_token])
        )
        if account
        else "",
        "subscribed_events": SUBSCRIBED_EVENTS,
        # Query: the latest events Stripe sent (none before a connection).
        "events": list(
            StripeEvent.objects.filter(organization=organization)
            .only("event_id", "type", "status", "error", "created_at")
            .order_by("-created_at", "-pk")[:RECENT_EVENTS]
        )
        if account
        else [],
    }
    return render(request, "integrations/stripe/connection.html", ctx, status=200)


@require_POST
@require_role(Role.ADMIN)
def stripe_disconnect(request: OrgRequest, org_slug: str) -> HttpResponse:
    account = stripe_account_of(request.organization)
    if account is None:
        messages.info(request, "Stripe is not connected.")
    else:
        expired = stripe_account_disconnect(
            account=account, by=request.user, request=request
        )
        messages.success(
            request,
            "Stripe is disconnected: clients can no longer pay online"
            + (f" ({expired} open payment page(s) closed)." if expired else "."),
        )
    return redirect("stripe:connection", org_slug=request.organization.slug)


@require_POST
@require_role(REFUND_ROLE)
def stripe_payment_refund(
    request: OrgRequest, org_slug: str, payment_uuid
) -> HttpResponse:
    # Query: the payment, in this firm only.
    payment = get_object_or_404(
        Payment.objects.filter(organization=request.organization), uuid=payment_uuid
    )
    form = StripeRefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
    else:
        try:
            refund = payment_refund_through_stripe(
                payment=payment,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request,
                f"Refunded {refund.amount} {payment.currency} through Stripe.",
            )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not back.startswith(f"/o/{request.organization.slug}/"):
        back = reverse("stripe:connection", args=[request.organization.slug])
    return redirect(back)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, webhook_token) -> HttpResponse:
    """Stripe's delivery of an event to one firm (integrations.stripe.webhooks)."""
    received = webhook_receive(
        token=webhook_token,
        body=request.body,
        signature=request.headers.get("Stripe-Signature"),
    )
    return JsonResponse({"message": received.message}, status=received.status)
