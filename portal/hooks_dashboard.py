"""The portal's panels on the firm dashboard (slot "dashboard", advisoros/panels.py):
document requests still outstanding with clients, and what clients did in the
portal lately.

Outstanding: the items of open requests that the client still owes (nothing
sent yet, or what was sent was refused), overdue past their due date, and
what clients sent that waits for the firm to accept. Recent activity: what
contacts did in the portal (ACTIVITY_SHOWN); failed sign-ins, refused links
and other security noise stay on each contact's access log and the audit log.
A member limited to assigned clients sees their clients' rows only (activity
with no client, such as a sign-in, is for the members who see every client).

Two queries whatever the firm's size: the outstanding counts (for a member
who sees every client, read from the days the database keeps:
documents.models.OutstandingDay), and the newest activity rows with their
clients and contacts.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.tenancy.clock import firm_today
from clients.selectors import sees_assigned_only, visible_clients
from documents.services.requests import requests_outstanding
from portal.models import Activity, PortalActivity

ACTIVITY_ROWS = 8
ACTIVITY_SHOWN = (
    Activity.SIGNED_IN,
    Activity.LINK_REDEEMED,
    Activity.REQUEST_VIEWED,
    Activity.DOCUMENT_VIEWED,
    Activity.DOCUMENT_DOWNLOADED,
    Activity.UPLOADED,
    Activity.UPLOAD_REMOVED,
    Activity.LETTER_VIEWED,
    Activity.LETTER_SIGNED,
    Activity.MESSAGE_SENT,
)


def dashboard_portal_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    # Query: the firm's outstanding days (kept by the database), or for a
    # member limited to assigned clients their open requests' items.
    outstanding = requests_outstanding(
        request.membership, today=firm_today(request.organization)
    )
    activity = PortalActivity.objects.filter(
        organization=request.organization, action__in=ACTIVITY_SHOWN
    )
    if sees_assigned_only(request.membership):
        activity = activity.filter(client_id__in=visible_clients(request).values("pk"))
    # Query: the newest portal activity with its clients and contacts.
    recent = list(
        activity.select_related("client", "contact")
        .only(
            "action",
            "summary",
            "email",
            "created_at",
            "client__uuid",
            "client__display_name",
            "contact__first_name",
            "contact__last_name",
        )
        .order_by("-created_at", "-id")[:ACTIVITY_ROWS]
    )
    for row in recent:
        row.who = (
            " ".join(
                part for part in (row.contact.first_name, row.contact.last_name) if part
            )
            if row.contact is not None
            else ""
        ) or row.email
    return {
        "organization": request.organization,
        "outstanding": outstanding,
        "recent": recent,
    }


register_panel(
    "dashboard",
    template="portal/panels/dashboard_portal.html",
    context=dashboard_portal_context,
    order=800,
)
