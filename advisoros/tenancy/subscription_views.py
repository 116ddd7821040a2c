"""The owners' Subscription page: the firm's plan, its use of the plan's limits,
the trial or period dates. The buttons that talk to the payment provider
(subscribe, change the plan, manage billing) are a panel that
integrations.stripe adds to the slot "subscription" (advisoros.panels).

While the platform's billing is off the page does not exist for anyone: its
address leads to the dashboard.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.plans import (
    plan_usage,
    platform_billing_on,
    subscription_for,
)
from advisoros.tenancy.request import OrgRequest


@require_role(Role.OWNER)
def subscription_page(request: OrgRequest, org_slug: str) -> HttpResponse:
    if not platform_billing_on():
        return redirect("tenancy:dashboard", org_slug=org_slug)
    organization = request.organization
    # The subscription with its plan, as the middleware read it; for a firm
    # that has none yet, a trial made now (three queries).
    subscription = request.firm_subscription or subscription_for(organization)
    if subscription is not None:
        subscription.organization = organization
    ctx = {
        "subscription": subscription,
        # Queries 1-4: members and open invitations, clients, stored bytes.
        "usage": plan_usage(organization, subscription.plan) if subscription else [],
        "standing": getattr(request, "subscription_standing", None),
    }
    return render(request, "tenancy/subscription.html", ctx)
