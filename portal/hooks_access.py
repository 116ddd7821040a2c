"""Portal access on the lower apps' pages, and links in their emails (PortalConfig.ready).

- the contact page (slot "contact_detail"): the contact's access at a glance,
  with a link to the portal access page;
- the request page (slot "request_detail"): email or copy a request link to a
  contact of the client, the request's links, revoke them all;
- reminder emails (documents.links): each contact's own fresh request link.

Each panel costs two queries, whatever the number of rows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from advisoros.panels import register_panel
from clients.models import Contact
from clients.selectors import visible_clients
from documents.links import register_request_link_builder
from documents.models import DocumentRequest
from portal.models import PortalGrant, RequestLink
from portal.services.access import MANAGE_ROLE, contact_account, contact_grants
from portal.services.links import request_link_create, request_link_url

LINKS_SHOWN = 20


def contact_access_panel(request: HttpRequest, contact: Contact) -> dict | None:
    membership = getattr(request, "membership", None)
    if membership is None or contact is None or contact.pk is None:
        return None
    return {
        "contact": contact,
        # Query: the contact's grants on the clients the member sees.
        "grants": contact_grants(contact, visible_clients(request)),
        # Query: the portal account with the contact's email.
        "account": contact_account(contact),
        "access_url": reverse(
            "portal_staff:contact_access",
            kwargs={
                "org_slug": request.organization.slug,
                "contact_uuid": contact.uuid,
            },
        ),
        "can_manage": membership.has_role(MANAGE_ROLE),
    }


def request_links_panel(request: HttpRequest, doc_request: DocumentRequest) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None or doc_request is None:
        return None
    revoked = PortalGrant.objects.filter(
        contact=OuterRef("pk"),
        client_id=doc_request.client_id,
        revoked_at__isnull=False,
    )
    # Query: the client's contacts with an email, and whose access was revoked.
    contacts = list(
        Contact.objects.filter(
            organization_id=doc_request.organization_id,
            client_contacts__client_id=doc_request.client_id,
        )
        .exclude(email="")
        .annotate(access_revoked=Exists(revoked))
        .only("uuid", "organization_id", "first_name", "last_name", "email")
        .distinct()
        .order_by("last_name", "first_name", "id")
    )
    # Query: the request's newest links with their contacts (one more tells
    # whether older ones exist).
    links = list(
        RequestLink.objects.filter(request_id=doc_request.pk)
        .select_related("contact")
        .only(
            "uuid",
            "organization_id",
            "created_at",
            "expires_at",
            "revoked_at",
            "use_count",
            "last_used_at",
            "contact__uuid",
            "contact__organization_id",
            "contact__first_name",
            "contact__last_name",
        )
        .order_by("-created_at", "-id")[: LINKS_SHOWN + 1]
    )
    now = timezone.now()
    closed = doc_request.status != DocumentRequest.Status.OPEN
    for link in links:
        link.state_now = link.state(now)
        if closed and link.state_now == "active":
            link.state_now = (
                "closed"  # the request needs nothing more: it opens nothing
            )
    kwargs = {"org_slug": request.organization.slug, "request_uuid": doc_request.uuid}
    return {
        "doc_request": doc_request,
        "contacts": contacts,
        "links": links[:LINKS_SHOWN],
        "more_links": len(links) > LINKS_SHOWN,
        "any_active": any(link.state_now == "active" for link in links),
        "can_write": membership.can_write,
        "is_open": doc_request.status == DocumentRequest.Status.OPEN,
        "link_days": request.organization.portal_link_days,
        "email_url": reverse("portal_staff:request_link_email", kwargs=kwargs),
        "copy_url": reverse("portal_staff:request_link_copy", kwargs=kwargs),
        "revoke_url": reverse("portal_staff:request_links_revoke", kwargs=kwargs),
    }


register_panel(
    "contact_detail",
    template="portal/panels/contact_access.html",
    context=contact_access_panel,
)
register_panel(
    "request_detail",
    template="portal/panels/request_links.html",
    context=request_links_panel,
)


@register_request_link_builder
def portal_request_link(*, request: DocumentRequest, contact: Contact) -> str:
    """A fresh link for a reminder (made by nobody: the schedule sends it). None
    for a contact whose portal access to the client was revoked, or a closed
    request: request_link_create refuses both."""
    try:
        _, token = request_link_create(
            request=request, contact=contact, created_by=None
        )
    except ValidationError:
        return ""
    return request_link_url(request.organization, token)
