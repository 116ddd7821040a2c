"""Wall one: resolve the firm from the URL, check the membership, run the view in its scope."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.defaults import permission_denied

from advisoros.tenancy.db import (
    firm_context,
    platform_bypass,
    tenant_context,
    user_context,
)
from advisoros.tenancy.models import Membership, Organization, Role
from advisoros.tenancy.offboarding import write_refused_here, writes_refused
from advisoros.tenancy.plans import (
    GOOD,
    firm_subscription,
    platform_billing_on,
    subscription_standing,
)
from advisoros.tenancy.selectors import user_memberships

ORG_PATH = re.compile(r"^/o/(?P<slug>[-\w]+)/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ACTIVE_ORG_SESSION_KEY = "active_org"


class TenancyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        user_id = request.user.pk if request.user.is_authenticated else None
        match = ORG_PATH.match(request.path_info)
        if match is not None:
            return self._firm_page(request, match["slug"], user_id)
        if request.path_info.startswith("/admin/") and user_id is not None:
            return self._admin_page(request, user_id)
        if request.path_info.startswith("/p/"):
            # The client portal sets its own firm context (portal.middleware) and
            # never reads the staff user: no user context to set and reset.
            return self.get_response(request)
        if user_id is None:
            # No one signed in, outside a firm (the sign-in pages, Stripe's
            # webhooks): the connection's settings are empty already (every
            # context restores them on its way out), so setting an empty user
            # and resetting it would be two round trips for nothing.
            return self.get_response(request)
        with user_context(user_id):
            return finish_in_context(
                self.get_response(request), lambda: user_context(user_id)
            )

    def _firm_page(
        self, request: HttpRequest, slug: str, user_id: int | None
    ) -> HttpResponse:
        if user_id is None:
            return redirect_to_login(request.get_full_path())
        with firm_context(slug, user_id=user_id) as organization:
            if organization is None:
                raise Http404("No such firm.")
            # The person's firms (the switcher) and, among them, this one: one query.
            firms = list(user_memberships(user_id))
            request.user_firms = firms
            membership = next(
                (m for m in firms if m.organization_id == organization.pk), None
            )
            if membership is None:
                raise Http404("No such firm.")  # never tell an outsider the firm exists
            membership.organization = organization
            request.organization = organization
            request.membership = membership
            if organization.require_two_factor and not request.user.is_verified():
                return redirect(
                    f"{reverse('accounts:two_factor_required')}?firm={organization.slug}"
                )
            if request.method not in SAFE_METHODS and not membership.can_write:
                return permission_denied(
                    request, PermissionDenied("Read-only members cannot make changes.")
                )
            if writes_refused(request, organization):
                return render(
                    request,
                    "tenancy/deactivated.html",
                    {"organization": organization, "membership": membership},
                    status=403,
                )
            request.subscription_standing = GOOD
            request.firm_subscription = None
            if platform_billing_on():
                # The firm's own subscription (advisoros.tenancy.plans): one query,
                # only while the platform's billing is on.
                subscription = firm_subscription(organization)
                if subscription is not None:
                    subscription.organization = organization
                    standing = subscription_standing(subscription)
                    if standing.read_only and write_refused_here(request):
                        # The page says why itself (no banner above it).
                        return render(
                            request,
                            "tenancy/read_only.html",
                            {"notice": standing.notice},
                            status=403,
                        )
                    request.subscription_standing = standing
                    request.firm_subscription = subscription
            if request.session.get(ACTIVE_ORG_SESSION_KEY) != organization.slug:
                request.session[ACTIVE_ORG_SESSION_KEY] = organization.slug
            response = self.get_response(request)
            return finish_in_context(
                response, lambda: tenant_context(organization, user_id=user_id)
            )

    def _admin_page(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Superusers see every firm (platform bypass); a firm's owners/admins see their own."""
        if request.user.is_superuser:
            # Every firm's data: a password alone is not enough.
            if not request.user.is_verified():
                return redirect(reverse("accounts:two_factor_required"))
            with platform_bypass():
                return finish_in_context(self.get_response(request), platform_bypass)
        slug = request.session.get(ACTIVE_ORG_SESSION_KEY)
        organization = Organization.objects.filter(slug=slug).first() if slug else None
        if organization is None:
            with user_context(user_id):
                return self.get_response(request)  # the admin refuses: no firm chosen
        with tenant_context(organization, user_id=user_id):
            membership = Membership.objects.filter(
                organization=organization, user_id=user_id, is_active=True
            ).first()
            if membership is not None and membership.has_role(Role.ADMIN):
                membership.organization = organization
                request.organization = organization
                request.membership = membership
            if organization.require_two_factor and not request.user.is_verified():
                request.membership = None
            return finish_in_context(
                self.get_response(request),
                lambda: tenant_context(organization, user_id=user_id),
            )


def finish_in_context(response: HttpResponse, context_factory) -> HttpResponse:
    """Render lazy responses while the context is still active; stream inside it too."""
    if (
        hasattr(response, "render")
        and callable(response.render)
        and not getattr(response, "is_rendered", True)
    ):
        response.render()
    if getattr(response, "streaming", False):
        response.streaming_content = _in_context(
            response.streaming_content, context_factory
        )
    return response


def _in_context(chunks: Iterator[bytes], context_factory) -> Iterator[bytes]:
    with context_factory():
        yield from chunks
