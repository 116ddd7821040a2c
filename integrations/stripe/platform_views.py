"""The owners' subscription buttons (subscribe, change the plan, Stripe's
billing page) and the platform's webhook (integrations.stripe.platform).

The buttons sit on the core's Subscription page (advisoros.tenancy.subscription_views)
as a panel (integrations.stripe.platform_panels). They stay open in a firm that
is read-only for its subscription, as the export does: that is how it pays.
While the platform's billing is off they lead to the dashboard, and the
webhook does not exist (404).
"""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import FirmSubscription, Plan, Role
from advisoros.tenancy.offboarding import open_when_deactivated
from advisoros.tenancy.plans import platform_billing_on, subscription_for
from advisoros.tenancy.request import OrgRequest
from integrations.stripe import platform
from integrations.stripe.platform import StripeError

logger = logging.getLogger(__name__)


def _page(request: OrgRequest) -> HttpResponse:
    return redirect("tenancy:subscription", org_slug=request.organization.slug)


def _subscription(request: OrgRequest) -> FirmSubscription | None:
    subscription = subscription_for(request.organization)
    if subscription is not None:
        subscription.organization = request.organization
    return subscription


def _plan(request: OrgRequest) -> Plan | None:
    return Plan.objects.filter(
        code=request.POST.get("plan", ""), is_active=True
    ).first()


def _off(request: OrgRequest) -> HttpResponse | None:
    if platform_billing_on():
        return None
    return redirect("tenancy:dashboard", org_slug=request.organization.slug)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def checkout_start(request: OrgRequest, org_slug: str) -> HttpResponse:
    if off := _off(request):
        return off
    subscription, plan = _subscription(request), _plan(request)
    if subscription is None or plan is None:
        messages.error(request, "Choose one of the plans below.")
        return _page(request)
    done = reverse("subscription:checkout_done", kwargs={"org_slug": org_slug})
    try:
        url = platform.platform_checkout_start(
            organization=request.organization,
            subscription=subscription,
            plan=plan,
            email=request.user.email,
            success_url=request.build_absolute_uri(done)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(
                reverse("tenancy:subscription", kwargs={"org_slug": org_slug})
            ),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _page(request)
    except StripeError as exc:
        logger.warning("Firm %s: checkout refused: %s", request.organization.pk, exc)
        messages.error(request, platform.error_message(exc))
        return _page(request)
    return redirect(url)


@open_when_deactivated
@require_role(Role.OWNER)
def checkout_done(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Stripe's Checkout sends the owner back here (a GET that reads Stripe)."""
    if off := _off(request):
        return off
    subscription = _subscription(request)
    session_id = request.GET.get("session_id", "")[:255]
    if subscription is None or not session_id:
        return _page(request)
    try:
        found = platform.platform_checkout_return(
            organization=request.organization,
            subscription=subscription,
            session_id=session_id,
        )
    except StripeError as exc:
        logger.warning("Firm %s: checkout return: %s", request.organization.pk, exc)
        found = False
    if found:
        messages.success(
            request,
            f"Thank you: {request.organization.name} is on {subscription.plan.name}.",
        )
    else:
        messages.info(
            request,
            "Stripe has not confirmed the subscription yet. This page shows it "
            "once Stripe does, usually within a minute.",
        )
    return _page(request)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def plan_change(request: OrgRequest, org_slug: str) -> HttpResponse:
    if off := _off(request):
        return off
    subscription, plan = _subscription(request), _plan(request)
    if subscription is None or plan is None:
        messages.error(request, "Choose one of the plans below.")
        return _page(request)
    try:
        platform.platform_plan_change(
            organization=request.organization,
            subscription=subscription,
            plan=plan,
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except StripeError as exc:
        logger.warning("Firm %s: plan change refused: %s", request.organization.pk, exc)
        messages.error(request, platform.error_message(exc))
    else:
        messages.success(request, f"{request.organization.name} is on {plan.name} now.")
    return _page(request)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def billing_portal(request: OrgRequest, org_slug: str) -> HttpResponse:
    if off := _off(request):
        return off
    subscription = _subscription(request)
    if subscription is None:
        return _page(request)
    try:
        url = platform.platform_portal_url(
            organization=request.organization,
            subscription=subscription,
            return_url=request.build_absolute_uri(
                reverse("tenancy:subscription", kwargs={"org_slug": org_slug})
            ),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _page(request)
    except StripeError as exc:
        logger.warning("Firm %s: portal refused: %s", request.organization.pk, exc)
        messages.error(request, platform.error_message(exc))
        return _page(request)
    return redirect(url)


@csrf_exempt  # no session: the signature on the raw body is the check
def platform_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, record, queue, answer 2xx (integrations.stripe.platform)."""
    if not platform_billing_on():
        raise Http404("No platform billing here.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.body
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8", "replace"),
            request.headers.get("Stripe-Signature", ""),
            settings.PLATFORM_STRIPE_WEBHOOK_SECRET,
            platform.TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        logger.warning("Platform Stripe webhook refused: %s", str(exc)[:200])
        return HttpResponse("Bad signature.", status=400, content_type="text/plain")
    try:
        event = json.loads(body)
        if event.get("object") != "event" or not isinstance(
            event["data"]["object"], dict
        ):
            raise ValueError
        event_id, event_type = str(event["id"]), str(event["type"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return HttpResponse(
            "Not a Stripe event.", status=400, content_type="text/plain"
        )
    if not (event_id.startswith("evt_") and len(event_id) <= 255 and event_type):
        return HttpResponse(
            "Not a Stripe event.", status=400, content_type="text/plain"
        )
    outcome = platform.platform_event_receive(event)
    return HttpResponse(outcome.capitalize() + ".", content_type="text/plain")
