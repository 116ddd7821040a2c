"""The subscription buttons on the core's Subscription page (slot
"subscription", advisoros.panels): each plan with its price and limits, and
the button that fits (subscribe, switch), and Stripe's billing page."""

from __future__ import annotations

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.tenancy.models import FirmSubscription, Plan
from advisoros.tenancy.plans import platform_billing_on
from integrations.stripe.platform import has_live_subscription


def subscription_actions_context(
    request: HttpRequest, subscription: FirmSubscription | None
) -> dict | None:
    if subscription is None or not platform_billing_on():
        return None
    live = has_live_subscription(subscription)
    # Query: the plans on offer.
    plans = [
        {
            "plan": plan,
            "current": plan.pk == subscription.plan_id,
            "can_buy": bool(plan.stripe_price_id),
            "action": None
            if not plan.stripe_price_id or (live and plan.pk == subscription.plan_id)
            else ("change" if live else "checkout"),
        }
        for plan in Plan.objects.filter(is_active=True)
    ]
    return {
        "organization": request.organization,
        "subscription": subscription,
        "plans": plans,
        "live": live,
    }


def register() -> None:
    register_panel(
        "subscription",
        template="integrations/stripe/panels/subscription_actions.html",
        context=subscription_actions_context,
    )
