"""The contact's home page and the firms they may switch between."""

from __future__ import annotations

from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from advisoros.tenancy.db import platform_bypass
from portal.decorators import portal_login_required
from portal.models import PortalGrant
from portal.selectors import (
    HOME_SHOWN,
    invoices_to_pay,
    letters_to_sign,
    open_requests,
    shared_documents_listed,
    unread_messages,
)


@portal_login_required
def home(request: HttpRequest, org_slug: str) -> HttpResponse:
    portal = request.portal
    # Their clients are the grants' (loaded with the session): no join.
    requests = portal.with_clients(open_requests(portal)[: HOME_SHOWN + 1])
    documents = portal.with_clients(shared_documents_listed(portal)[:5])
    letters = list(letters_to_sign(portal)[:HOME_SHOWN])
    to_pay = portal.with_clients(invoices_to_pay(portal)[:HOME_SHOWN])
    ctx = {
        "portal_section": "home",
        "requests": requests[:HOME_SHOWN],
        "more_requests": len(requests) > HOME_SHOWN,
        "documents": documents,
        "letters": letters,
        "to_pay": to_pay,
        "unread": unread_messages(portal),
        "clients": portal.clients(),
        "show_client": len(portal.grants) > 1,
    }
    return render(request, "portal/home.html", ctx)


@portal_login_required
def firms(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Every firm where this email has portal access (each firm's contact is its own
    row, so this one read crosses firms, and shows only names and addresses)."""
    email = request.portal.account.email
    with platform_bypass():
        rows = list(
            PortalGrant.objects.alias(email_lower=Lower("contact__email"))
            .filter(email_lower=email, revoked_at__isnull=True)
            .values("organization__name", "organization__slug")
            .distinct()
            .order_by("organization__name")
        )
    return render(
        request,
        "portal/firms.html",
        {"firms": rows, "portal_section": "firms"},
    )
