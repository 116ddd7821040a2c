"""Request links: the GET never redeems, the POST does; expiry, revocation,
single purpose, another firm's address, guessed tokens and the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.services.requests import document_request_cancel
from portal.models import Activity, PortalActivity, RequestLink
from portal.services.links import request_links_revoke
from portal.tokens import new_token
from tests.portal.builders import make_link

pytestmark = pytest.mark.django_db


def _url(token: str, slug: str = "alpha") -> str:
    return f"/p/{slug}/r/{token}/"


def _request_url(request) -> str:
    return f"/p/{request.organization.slug}/requests/{request.uuid}/"


def test_opening_the_link_shows_continue_and_uses_nothing(pcast, client):
    link, token = make_link(pcast.jane_request, pcast.joan)
    for _ in range(3):  # a mail scanner, a preview, the person
        response = client.get(_url(token))
        assert response.status_code == 200
        assert b'data-testid="continue"' in response.content
    with tenant_context(pcast.jane.organization):
        link.refresh_from_db()
    assert link.use_count == 0 and link.first_used_at is None
    # Nothing is open yet.
    assert client.get(_request_url(pcast.jane_request))["Location"] == "/p/alpha/"


def test_continue_opens_that_request_only(pcast, client):
    link, token = make_link(pcast.jane_request, pcast.joan)
    response = client.post(_url(token))
    assert response["Location"] == _request_url(pcast.jane_request)
    page = client.get(_request_url(pcast.jane_request))
    assert page.status_code == 200
    assert b"W-2" in page.content and b"1099-INT" in page.content
    with tenant_context(pcast.jane.organization):
        link.refresh_from_db()
    assert link.use_count == 1 and link.first_used_at is not None
    with tenant_context(pcast.jane.organization):
        activity = PortalActivity.objects.get(action=Activity.LINK_REDEEMED)
        assert activity.via_link_id == link.pk and activity.client_id == pcast.jane.pk
        assert activity.ip_address == "127.0.0.1"
    # Single purpose: no home, no other request of the same client or another.
    from tests.portal.builders import make_request

    other_of_jane = make_request(pcast.jane, "Bookkeeping", ["Bank statements"])
    assert client.get("/p/alpha/home/")["Location"] == "/p/alpha/"
    assert client.get(_request_url(other_of_jane)).status_code == 404
    assert client.get(_request_url(pcast.acme_request)).status_code == 404
    # Beta knows nobody here: its sign-in page, nothing of the request.
    assert client.get(_request_url(pcast.beta_request))["Location"] == "/p/beta/"


def test_the_link_works_again_from_another_device(pcast, client, django_user_model):
    from django.test import Client as HttpClient

    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(_url(token))
    phone = HttpClient(HTTP_USER_AGENT="Phone")
    assert phone.post(_url(token))["Location"] == _request_url(pcast.jane_request)
    assert phone.get(_request_url(pcast.jane_request)).status_code == 200


@pytest.mark.parametrize("case", ["expired", "revoked", "closed"])
def test_a_dead_link_gets_a_clear_page_an_audit_event_and_opens_nothing(
    pcast, client, cast, case
):
    link, token = make_link(pcast.jane_request, pcast.joan)
    with tenant_context(cast.alpha):
        if case == "expired":
            RequestLink.objects.filter(pk=link.pk).update(
                expires_at=timezone.now() - timedelta(minutes=1)
            )
        elif case == "revoked":
            request_links_revoke(request=pcast.jane_request, revoked_by=cast.alice)
        else:
            document_request_cancel(request=pcast.jane_request, by=cast.alice)
    page = client.get(_url(token))
    assert page.status_code == 410
    assert b"This link cannot be used" in page.content
    response = client.post(_url(token))
    assert response.status_code == 410
    assert client.get(_request_url(pcast.jane_request)).status_code in (302, 404)
    with tenant_context(cast.alpha):
        refused = PortalActivity.objects.get(action=Activity.LINK_REFUSED)
    assert refused.detail["reason"] == case
    with platform_bypass():
        assert AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.PORTAL_LINK_REFUSED
        ).exists()


def test_a_link_stops_mid_session_when_staff_revoke_it(pcast, client, cast):
    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(_url(token))
    assert client.get(_request_url(pcast.jane_request)).status_code == 200
    with tenant_context(cast.alpha):
        request_links_revoke(request=pcast.jane_request, revoked_by=cast.alice)
    assert client.get(_request_url(pcast.jane_request))["Location"] == "/p/alpha/"


def test_a_guessed_token_is_refused(pcast, client):
    for token in [new_token(), "short", "x" * 43]:
        response = client.post(_url(token))
        assert response.status_code == 404
        assert b"This link is not valid" in response.content


def test_another_firms_link_on_this_firms_address_is_unknown(pcast, client):
    _, token = make_link(pcast.beta_request, pcast.bruno)
    assert client.post(_url(token, "alpha")).status_code == 404
    assert client.post(_url(token, "beta"))["Location"] == _request_url(
        pcast.beta_request
    )


def test_redemptions_are_rate_limited_per_address(pcast, client, settings):
    from portal.services import links

    _, token = make_link(pcast.jane_request, pcast.joan)
    for _ in range(links.LINK_ATTEMPTS_PER_WINDOW):
        client.post(_url(new_token()))
    limited = client.post(_url(token))
    assert limited.status_code == 429
    assert b"Too many attempts" in limited.content


def test_the_token_is_stored_hashed(pcast):
    link, token = make_link(pcast.jane_request, pcast.joan)
    assert token not in link.token_hash
    with tenant_context(pcast.jane.organization):
        assert not RequestLink.objects.filter(token_hash=token).exists()


def test_portal_access_shows_on_the_clients_timeline(pcast, client, cast):
    from django.test import Client as HttpClient

    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(_url(token), HTTP_USER_AGENT="JoansPhone/1.0")
    staff = HttpClient()
    staff.force_login(cast.alice)
    page = staff.get(f"/o/alpha/clients/{pcast.jane.uuid}/?tab=timeline")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Opened the request link for “2026 tax documents”" in text
    assert "Joan Doe" in text
    # Not on another client's timeline.
    other = staff.get(f"/o/alpha/clients/{pcast.acme.uuid}/?tab=timeline").content
    assert b"Opened the request link" not in other


def test_reaching_for_another_request_with_a_link_is_refused_and_audited(
    pcast, client, cast
):
    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(_url(token))
    assert client.get(_request_url(pcast.acme_request)).status_code == 404
    with tenant_context(cast.alpha):
        denied = PortalActivity.objects.get(action=Activity.DENIED)
    assert str(pcast.acme_request.uuid) in denied.detail["path"]
    assert denied.contact_id == pcast.joan.pk
