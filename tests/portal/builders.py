"""Builders for portal tests (rows through the services where one exists)."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.test import Client as HttpClient

from advisoros.tenancy.db import tenant_context
from clients.models import Client, ClientContact, Contact
from documents.models import DocumentRequest
from documents.services.requests import document_request_create
from portal.models import PortalAccount, PortalGrant, RequestLink
from portal.services.links import request_link_create
from portal.session import portal_sign_in


def make_contact(client: Client, first: str, last: str, email: str) -> Contact:
    with tenant_context(client.organization):
        contact = Contact.objects.create(
            organization=client.organization,
            first_name=first,
            last_name=last,
            email=email,
        )
        ClientContact.objects.create(
            organization=client.organization, client=client, contact=contact
        )
    return contact


def make_grant(contact: Contact, client: Client, **capabilities) -> PortalGrant:
    with tenant_context(client.organization):
        return PortalGrant.objects.create(
            organization=client.organization,
            contact=contact,
            client=client,
            **capabilities,
        )


def make_portal_account(email: str, password: str | None = None) -> PortalAccount:
    return PortalAccount.objects.create(
        email=email, password=make_password(password) if password else ""
    )


def make_request(
    client: Client, title: str, items: list[str], *, by=None
) -> DocumentRequest:
    with tenant_context(client.organization):
        return document_request_create(
            client=client,
            title=title,
            items=[{"title": t} for t in items],
            created_by=by,
        )


def make_link(request: DocumentRequest, contact: Contact) -> tuple[RequestLink, str]:
    with tenant_context(request.organization):
        return request_link_create(request=request, contact=contact, created_by=None)


def portal_login(http: HttpClient, slug: str, account: PortalAccount) -> HttpClient:
    """Put a verified portal sign-in in the test client's session."""
    from django.test import RequestFactory

    session = http.session
    request = RequestFactory().get("/")
    request.session = session
    portal_sign_in(request, account)
    session.save()
    http.cookies["sessionid"] = session.session_key
    return http
