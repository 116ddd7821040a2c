"""Every portal address, collected from the resolver, tried with the objects of a
client the visitor may not see: the same firm's other client (Acme) and another
firm's (Beta). A contact of Jane gets 404 on all of them; a request link opens
its own request only; an anonymous visitor reaches only the ways in.

A new portal route with a new kind of identifier fails here until the sweep
knows how to fill it (FOREIGN below): nobody adds a page without its wall.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement
from documents.models import Document
from portal.models import PortalGrant
from tests.factories import make_document, make_issued_invoice
from tests.portal.builders import make_link, make_request

pytestmark = pytest.mark.django_db

# The ways in: anyone may open them (they check what they are given).
PUBLIC = {
    "sign_in",
    "code_request",
    "code_verify",
    "two_factor",
    "two_factor_setup",
    "sign_out",
    "link",
    "invitation",
}


def portal_patterns() -> list[tuple[str, str]]:
    """(name, route with <converters>) of every page under /p/<org_slug>/."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str | None):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and namespace == "portal":
                found.append((p.name, prefix + str(p.pattern)))

    walk(get_resolver().url_patterns, "", None)
    return found


def test_the_sweep_sees_the_portal():
    names = {name for name, _ in portal_patterns()}
    assert {"home", "request_detail", "item_upload", "documents", "letters"} <= names
    assert all(route.startswith("p/<slug:org_slug>/") for _, route in portal_patterns())


def _fill(route: str, values: dict[str, str]) -> str:
    def sub(match: re.Match) -> str:
        name = match.group(2)
        if name not in values:
            raise AssertionError(f"The leak sweep cannot fill <{name}> in {route}")
        return values[name]

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


@pytest.fixture
def foreign(pcast, cast) -> list[dict[str, str]]:
    """Identifiers of what Joan must not reach: Acme's (same firm) and Beta's."""
    variants = []
    for client, request, contact in (
        (pcast.acme, pcast.acme_request, pcast.carl),
        (pcast.bruno_client, pcast.beta_request, pcast.bruno),
    ):
        organization = client.organization
        document = make_document(client, visible_to_client=True)
        with tenant_context(organization):
            item = request.items.first()
            engagement = Engagement.objects.create(
                organization=organization,
                client=client,
                name="Audit",
                engagement_type="audit",
                letter="private/letters/x.pdf",
                letter_filename="letter.pdf",
            )
        _, token = make_link(request, contact)
        invoice = make_issued_invoice(client, None)
        variants.append(
            {
                "org_slug": "alpha",
                "request_uuid": str(request.uuid),
                "item_uuid": str(item.uuid),
                "document_uuid": str(document.uuid),
                "engagement_uuid": str(engagement.uuid),
                "client_uuid": str(client.uuid),
                "signature_uuid": str(uuid.uuid4()),
                "message_uuid": str(uuid.uuid4()),
                "invoice_uuid": str(invoice.uuid),
                "token": token if client.organization_id != cast.alpha.pk else "x" * 43,
            }
        )
    # Jane's own things that are not for Joan: an unshared document.
    return variants


def _assert_refused(response, url: str) -> None:
    assert response.status_code in (404, 405), (url, response.status_code)
    if response.status_code == 404:
        assert (
            b"not shared with you" in response.content
            or b"not valid" in response.content
        )


def test_a_contact_of_jane_gets_404_on_everything_of_acme_and_beta(
    pcast, joan_portal, foreign
):
    for name, route in portal_patterns():
        if name in PUBLIC:
            continue
        if "<" not in route.removeprefix("p/<slug:org_slug>/"):
            continue  # lists: what they show is tested below
        for values in foreign:
            url = _fill(route, values)
            _assert_refused(joan_portal.get(url), url)
            _assert_refused(
                joan_portal.post(url, {"body": "x", "signed_name": "x"}), url
            )


def test_lists_show_nothing_of_acme_or_beta(pcast, joan_portal, foreign, cast):
    secret_names = []
    for client in (pcast.acme, pcast.bruno_client):
        d = make_document(
            client, visible_to_client=True, title=f"Secret of {client.pk}"
        )
        secret_names.append(d.title)
    unshared = make_document(
        pcast.jane, visible_to_client=False, title="Jane internal memo"
    )
    secret_names += [unshared.title, "Year-end books", "Beta request"]
    for name, route in portal_patterns():
        if name in PUBLIC or "<" in route.removeprefix("p/<slug:org_slug>/"):
            continue
        url = _fill(route, {"org_slug": "alpha"})
        response = joan_portal.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        page = response.content.decode()
        for secret in secret_names:
            assert secret not in page, (url, secret)


def test_an_unshared_document_of_janes_own_is_not_found(pcast, joan_portal):
    document = make_document(pcast.jane, visible_to_client=False)
    for _name, route in portal_patterns():
        if "<document_uuid>" in route or "<uuid:document_uuid>" in route:
            if "requests/" in route:
                continue  # a request's uploads: their own test
            url = _fill(
                route, {"org_slug": "alpha", "document_uuid": str(document.uuid)}
            )
            _assert_refused(joan_portal.get(url), url)


def test_a_request_link_reaches_only_its_own_request(pcast, client, foreign):
    other_of_jane = make_request(pcast.jane, "Bookkeeping", ["Bank statements"])
    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(f"/p/alpha/r/{token}/")
    own = f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    assert client.get(own).status_code == 200
    with tenant_context(pcast.jane.organization):
        janes_item = other_of_jane.items.first()
        shared = Document.objects.filter(client=pcast.jane).first()
    values = {
        **foreign[0],
        "request_uuid": str(other_of_jane.uuid),
        "item_uuid": str(janes_item.uuid),
        "client_uuid": str(pcast.jane.uuid),
        "document_uuid": str(
            (shared or make_document(pcast.jane, visible_to_client=True)).uuid
        ),
    }
    for name, route in portal_patterns():
        if name in PUBLIC:
            continue
        url = _fill(route, values)
        response = client.get(url)
        assert response.status_code in (302, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"] == "/p/alpha/", url


def test_an_anonymous_visitor_reaches_only_the_ways_in(pcast, foreign):
    anonymous = HttpClient()
    values = foreign[0]
    with tenant_context(pcast.jane.organization):
        values = {**values, "request_uuid": str(pcast.jane_request.uuid)}
    for name, route in portal_patterns():
        url = _fill(route, values)
        response = anonymous.get(url)
        if name in PUBLIC:
            assert response.status_code in (200, 302, 404, 405, 410), url
            continue
        assert response.status_code in (302, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"] == "/p/alpha/", url


def test_a_revoked_contact_loses_everything_on_the_next_click(pcast, joan_portal):
    assert joan_portal.get("/p/alpha/home/").status_code == 200
    with tenant_context(pcast.jane.organization):
        PortalGrant.objects.filter(pk=pcast.joan_grant.pk).update(
            revoked_at="2026-01-01T00:00Z"
        )
    assert joan_portal.get("/p/alpha/home/")["Location"] == "/p/alpha/"
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    assert joan_portal.get(url)["Location"] == "/p/alpha/"
