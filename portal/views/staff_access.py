"""Staff pages about portal access: a contact's access (grants per client, the
invitation, the portal account, the access log), and request links from the
request page (email one, copy one, revoke them all).

Everyone in the firm sees access; managers and above change it
(portal.services.access.MANAGE_ROLE); staff and above send request links.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.http import client_ip, get_only, is_uuid
from advisoros.pagination import keyset_page
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client, Contact
from clients.selectors import get_client_or_404, visible_clients, visible_contacts
from documents.models import DocumentRequest
from documents.services.requests import requests_visible_to
from portal.models import (
    Capability,
    PortalActivity,
    PortalGrant,
    PortalInvitation,
)
from portal.services.access import (
    MANAGE_ROLE,
    contact_account,
    contact_grants,
    portal_grant_revoke,
    portal_grant_set,
    portal_invite,
)
from portal.services.links import (
    request_link_create,
    request_link_url,
    request_links_revoke,
)
from portal.services.request_email import request_link_email as email_link

ACTIVITY_PAGE = 50
# Capabilities of the billing app, which AdvisorOS does not have yet.
BILLING = {Capability.VIEW_INVOICES, Capability.PAY}
CONTACT_COLUMNS = ("uuid", "organization_id", "first_name", "last_name", "email")


@dataclass
class AccessRow:
    """One client on the contact's access page."""

    client: Client
    grant: PortalGrant | None
    linked: bool  # still a contact of the client
    capabilities: list[tuple[str, str, bool]]  # (field, label, ticked)


def _get_contact(request: OrgRequest, contact_uuid) -> Contact:
    return get_object_or_404(
        visible_contacts(request).only(*CONTACT_COLUMNS), uuid=contact_uuid
    )


def _get_request(request: OrgRequest, request_uuid) -> DocumentRequest:
    doc_request = get_object_or_404(
        requests_visible_to(request.membership).select_related("client"),
        uuid=request_uuid,
    )
    doc_request.organization = request.organization  # the services read its settings
    return doc_request


def _access_url(request: OrgRequest, contact: Contact) -> str:
    return reverse(
        "portal_staff:contact_access",
        kwargs={"org_slug": request.organization.slug, "contact_uuid": contact.uuid},
    )


def _request_url(request: OrgRequest, doc_request: DocumentRequest) -> str:
    url = reverse(
        "documents:request_detail",
        kwargs={
            "org_slug": request.organization.slug,
            "request_uuid": doc_request.uuid,
        },
    )
    return f"{url}#portal-links"


def _ticks(grant: PortalGrant | None) -> list[tuple[str, str, bool]]:
    """Each capability with its label; a client without a grant shows the defaults."""
    rows = []
    for capability in Capability:
        if grant is not None:
            ticked = getattr(grant, capability.value)
        else:
            ticked = PortalGrant._meta.get_field(capability.value).default
        label = capability.label
        if capability in BILLING:
            label = f"{label} (when billing arrives)"
        rows.append((capability.value, label, ticked))
    return rows


# The contact's access page -----------------------------------------------------------


@require_role(Role.READONLY)
def contact_access(request: OrgRequest, org_slug: str, contact_uuid) -> HttpResponse:
    # Query: the contact, as far as the member may see it.
    contact = _get_contact(request, contact_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    visible = visible_clients(request)
    # Query: the clients the contact is linked to (once each, whatever the roles).
    linked = list(
        visible.filter(client_contacts__contact=contact)
        .only("uuid", "organization_id", "display_name", "sort_name")
        .distinct()
        .order_by("sort_name", "id")
    )
    # Query: the contact's grants on the clients the member sees.
    grants = {g.client_id: g for g in contact_grants(contact, visible)}
    rows = [
        AccessRow(c, grants.pop(c.pk, None), True, []) for c in linked
    ] + [  # access kept on a client the contact was unlinked from: revoke it here
        AccessRow(g.client, g, False, []) for g in grants.values()
    ]
    for row in rows:
        row.capabilities = _ticks(row.grant)
    email = contact.email.strip().lower()
    # Query: the contact's latest invitation, with who sent it.
    invitation = (
        PortalInvitation.objects.filter(contact=contact)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
        .first()
    )
    # Query: a page of the access log: what the contact did, and what was tried
    # with their email address before anyone was known (failed sign-ins).
    who = Q(contact=contact)
    if email:
        who |= Q(contact__isnull=True, email=email)
    activity = keyset_page(
        PortalActivity.objects.filter(who, organization=request.organization)
        .select_related("client")
        .only(
            "uuid",
            "organization_id",
            "created_at",
            "action",
            "summary",
            "ip_address",
            "user_agent",
            "via_link_id",
            "client__uuid",
            "client__organization_id",
            "client__display_name",
        ),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor") or None,
        size=ACTIVITY_PAGE,
    )
    active = [r for r in rows if r.grant is not None and r.grant.is_active]
    ctx = {
        "contact": contact,
        "rows": rows,
        "has_active_grant": bool(active),
        # Query: the portal account with the contact's email (none without one).
        "account": contact_account(contact),
        "invitation": invitation,
        "invitation_open": invitation is not None
        and invitation.used_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > timezone.now(),
        "activity": activity,
        "can_manage": request.membership.has_role(MANAGE_ROLE),
    }
    return render(request, "portal/staff/access_contact.html", ctx)


@require_POST
@require_role(MANAGE_ROLE)
def grant_set(
    request: OrgRequest, org_slug: str, contact_uuid, client_uuid
) -> HttpResponse:
    contact = _get_contact(request, contact_uuid)
    client = get_client_or_404(request, client_uuid)
    capabilities = {c.value: c.value in request.POST for c in Capability}
    try:
        grant = portal_grant_set(
            contact=contact,
            client=client,
            capabilities=capabilities,
            granted_by=request.user,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        what = ", ".join(grant.capability_labels).lower()
        messages.success(
            request,
            f"{contact.full_name} may use the portal for {client.display_name}: "
            f"{what}.",
        )
    return redirect(_access_url(request, contact))


@require_POST
@require_role(MANAGE_ROLE)
def grant_revoke(
    request: OrgRequest, org_slug: str, contact_uuid, client_uuid
) -> HttpResponse:
    contact = _get_contact(request, contact_uuid)
    client = get_client_or_404(request, client_uuid)
    grant = PortalGrant.objects.filter(
        organization=request.organization, contact=contact, client=client
    ).first()
    if grant is None or grant.revoked_at is not None:
        messages.info(
            request,
            f"{contact.full_name} has no portal access to {client.display_name}.",
        )
    else:
        portal_grant_revoke(grant=grant, revoked_by=request.user, request=request)
        messages.success(
            request,
            f"{contact.full_name} no longer has portal access to "
            f"{client.display_name}. Their open request links for it stopped working.",
        )
    return redirect(_access_url(request, contact))


@require_POST
@require_role(MANAGE_ROLE)
def contact_invite(request: OrgRequest, org_slug: str, contact_uuid) -> HttpResponse:
    contact = _get_contact(request, contact_uuid)
    try:
        portal_invite(contact=contact, invited_by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Invitation emailed to {contact.email}.")
    return redirect(_access_url(request, contact))


# Request links (the panel on the request page) -------------------------------------


def _request_contact(
    request: OrgRequest, doc_request: DocumentRequest
) -> Contact | None:
    """The contact named in the form, if it is one of the request's client's."""
    value = request.POST.get("contact", "")
    if not is_uuid(value):
        return None
    return (
        Contact.objects.filter(
            organization=request.organization,
            client_contacts__client_id=doc_request.client_id,
            uuid=value,
        )
        .only(*CONTACT_COLUMNS)
        .first()
    )


@require_POST
@require_role(Role.STAFF)
def request_link_email(
    request: OrgRequest, org_slug: str, request_uuid
) -> HttpResponse:
    doc_request = _get_request(request, request_uuid)
    contact = _request_contact(request, doc_request)
    if contact is None:
        messages.error(request, "Choose a contact of this client.")
        return redirect(_request_url(request, doc_request))
    try:
        email_link(
            doc_request=doc_request,
            contact=contact,
            sent_by=request.user,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, f"A link to this request was emailed to {contact.email}."
        )
    return redirect(_request_url(request, doc_request))


@never_cache  # the page shows a token that is nowhere else
@require_POST
@require_role(Role.STAFF)
def request_link_copy(request: OrgRequest, org_slug: str, request_uuid) -> HttpResponse:
    doc_request = _get_request(request, request_uuid)
    contact = _request_contact(request, doc_request)
    error, url = "", ""
    if contact is None:
        error = "Choose a contact of this client."
    else:
        try:
            _, token = request_link_create(
                request=doc_request,
                contact=contact,
                created_by=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            error = error_text(exc)
        else:
            url = request_link_url(request.organization, token)
    if error and not request.htmx:
        messages.error(request, error)
        return redirect(_request_url(request, doc_request))
    ctx = {
        "doc_request": doc_request,
        "client": doc_request.client,
        "contact": contact,
        "url": url,
        "error": error,
        "link_days": request.organization.portal_link_days,
        "back_url": _request_url(request, doc_request),
    }
    template = "portal/staff/access_link_copy.html"
    return render(request, f"{template}#result" if request.htmx else template, ctx)


@require_POST
@require_role(Role.STAFF)
def request_links_revoke_all(
    request: OrgRequest, org_slug: str, request_uuid
) -> HttpResponse:
    doc_request = _get_request(request, request_uuid)
    count = request_links_revoke(
        request=doc_request, revoked_by=request.user, ip_address=client_ip(request)
    )
    if count:
        messages.success(
            request,
            f"{count} link{'' if count == 1 else 's'} to this request withdrawn.",
        )
    else:
        messages.info(request, "This request had no open links.")
    return redirect(_request_url(request, doc_request))
