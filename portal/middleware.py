"""The portal's wall: /p/<org-slug>/ runs in that firm's scope with `request.portal`.

Staff pages (/o/...) never read the portal's session keys, and portal pages never
read `request.user`: each side has its own sign-in (portal.session).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from advisoros.tenancy.db import firm_context, tenant_context
from advisoros.tenancy.middleware import finish_in_context
from advisoros.tenancy.offboarding import writes_refused
from portal.session import load_portal_session

PORTAL_PATH = re.compile(r"^/p/(?P<slug>[-\w]+)/")

# A deactivated firm's portal still lets its clients sign in and out (to read
# and download); every other write is refused (advisoros.tenancy.offboarding).
SIGN_IN_PAGES = frozenset(
    {
        "sign_in",
        "code_request",
        "code_verify",
        "two_factor",
        "two_factor_setup",
        "sign_out",
        "invitation",
        "link",
    }
)


class PortalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.portal = None
        match = PORTAL_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        # The firm and its database settings in one round trip, as for staff pages.
        with firm_context(match["slug"], user_id=None) as organization:
            if organization is None:
                # No firm's look: the portal's 404 page (process_exception).
                return self.get_response(request)
            request.portal = load_portal_session(request, organization)
            if writes_refused(request, organization, open_names=SIGN_IN_PAGES):
                response = render(
                    request,
                    "portal/refused.html",
                    {
                        "title": "This firm is closed",
                        "reason": f"{organization.name} no longer accepts uploads, "
                        "messages or signatures here. You can still read and "
                        "download your documents.",
                    },
                    status=403,
                )
            else:
                response = self.get_response(request)
            return finish_in_context(response, lambda: tenant_context(organization))

    def process_exception(self, request: HttpRequest, exception: Exception):
        """Not found and not allowed, in the portal's look (and the firm's)."""
        if PORTAL_PATH.match(request.path_info) is None:
            return None
        if isinstance(exception, Http404):
            _record_denied(request, "not found")
            return render(request, "portal/not_found.html", status=404)
        if isinstance(exception, PermissionDenied):
            _record_denied(request, "not allowed")
            return render(
                request,
                "portal/forbidden.html",
                {"reason": str(exception)},
                status=403,
            )
        return None


def _record_denied(request: HttpRequest, what: str) -> None:
    """Someone with a way in reached for what it does not open (another client's
    document, another request): an audit event. Anonymous misses are not logged."""
    portal = request.portal
    if portal is None or not portal.has_any_access:
        return
    from portal.activity import portal_activity_record
    from portal.models import Activity

    contact = portal.contact if portal.signed_in else None
    link = next(iter(portal.links.values()), None) if contact is None else None
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=Activity.DENIED,
        request=request,
        contact=contact or (link.contact if link else None),
        link=link,
        summary=f"Refused ({what}): {request.path[:200]}",
        detail={"path": request.path[:500], "method": request.method},
    )
