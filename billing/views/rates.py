"""Rates and capacity: the firm's members' rates and weekly hours (admins), and
an engagement's own rates (managers and above). The firm's default rate and
rounding rule are billing settings (billing.views.billing_settings).

Changing a rate changes no recorded time: entries keep the rates they were
recorded at (billing.services.time)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import error_text, form_error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_time import EngagementRateForm, MemberRateForm
from billing.models import ZERO, EngagementRate
from billing.selectors import billing_settings
from billing.services.rates import (
    engagement_rate_delete,
    engagement_rate_set,
    member_rate_set,
)
from clients.engagement_selectors import active_members
from clients.models import Engagement
from clients.selectors import visible_engagements


def _rates_url(request: OrgRequest) -> str:
    return reverse("billing:rates", kwargs={"org_slug": request.organization.slug})


@require_GET
@require_role(Role.ADMIN)
def rates(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    # Query: the firm's billing settings (its currency and default rate).
    settings = billing_settings(org)
    # Query: the active members with their users and rates.
    members = list(
        Membership.objects.filter(organization=org, is_active=True)
        .select_related("user", "rate")
        .order_by("user__name", "user__email")
    )
    for m in members:
        rate = getattr(m, "rate", None)
        m.billing_rate = rate.billing_rate if rate else ZERO
        m.cost_rate = rate.cost_rate if rate else ZERO
    return render(
        request, "billing/rates.html", {"settings": settings, "members": members}
    )


@require_POST
@require_role(Role.ADMIN)
def member_rate(request: OrgRequest, org_slug: str, member_uuid) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.filter(organization=request.organization).select_related(
            "user"
        ),
        uuid=member_uuid,
    )
    name = membership.user.name or membership.user.email
    form = MemberRateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{name}: {form_error_text(form)}")
        return redirect(_rates_url(request))
    try:
        member_rate_set(membership=membership, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, f"{name}: {error_text(exc)}")
    else:
        messages.success(request, f"Rates and capacity of {name} saved.")
    return redirect(_rates_url(request))


# An engagement's rates -----------------------------------------------------------------


def _get_engagement(request: OrgRequest, engagement_uuid) -> Engagement:
    return get_object_or_404(visible_engagements(request), uuid=engagement_uuid)


def _engagement_url(request: OrgRequest, engagement: Engagement) -> str:
    url = reverse(
        "clients:engagement_detail",
        kwargs={
            "org_slug": request.organization.slug,
            "engagement_uuid": engagement.uuid,
        },
    )
    return f"{url}#engagement-time"


@require_POST
@require_role(Role.MANAGER)
def engagement_rate_add(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    engagement = _get_engagement(request, engagement_uuid)
    form = EngagementRateForm(
        request.POST, members=active_members(request.organization)
    )
    if not form.is_valid():
        messages.error(request, f"The rate was not saved: {form_error_text(form)}")
        return redirect(_engagement_url(request, engagement))
    member = form.cleaned_data["member"]
    try:
        engagement_rate_set(
            engagement=engagement,
            membership=member,
            billing_rate=form.cleaned_data["billing_rate"],
        )
    except ValidationError as exc:
        messages.error(request, f"The rate was not saved: {error_text(exc)}")
    else:
        who = (member.user.name or member.user.email) if member else "everyone"
        messages.success(
            request,
            f"Rate for {who} on {engagement.name} saved: "
            f"{form.cleaned_data['billing_rate']} an hour. Time already recorded "
            "keeps its rate.",
        )
    return redirect(_engagement_url(request, engagement))


@require_POST
@require_role(Role.MANAGER)
def engagement_rate_remove(
    request: OrgRequest, org_slug: str, engagement_uuid, rate_uuid
) -> HttpResponse:
    engagement = _get_engagement(request, engagement_uuid)
    rate = get_object_or_404(
        EngagementRate.objects.filter(
            organization=request.organization, engagement=engagement
        ),
        uuid=rate_uuid,
    )
    engagement_rate_delete(rate=rate)
    messages.success(request, "Rate removed. Time already recorded keeps its rate.")
    return redirect(_engagement_url(request, engagement))


urlpatterns = [
    path("billing/rates/", rates, name="rates"),
    path("billing/rates/<uuid:member_uuid>/", member_rate, name="member_rate"),
    path(
        "billing/engagements/<uuid:engagement_uuid>/rates/",
        engagement_rate_add,
        name="engagement_rate_add",
    ),
    path(
        "billing/engagements/<uuid:engagement_uuid>/rates/<uuid:rate_uuid>/delete/",
        engagement_rate_remove,
        name="engagement_rate_remove",
    ),
]
