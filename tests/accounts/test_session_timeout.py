from __future__ import annotations

import time

import pytest
from django.urls import reverse

from advisoros.accounts.middleware import LAST_SEEN_KEY
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role

LOGIN = reverse("accounts:login")


def _set_timeout(organization: Organization, minutes: int) -> None:
    organization.session_timeout_minutes = minutes
    organization.save(update_fields=["session_timeout_minutes"])


def _idle_for(client, seconds: int) -> None:
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


@pytest.fixture
def alice_signed_in(cast, client, sign_in):
    """Alice signs in through the form, which reads her firm's timeout (15 minutes)."""
    _set_timeout(cast.alpha, 15)
    assert sign_in("alice@alpha.test").status_code == 302
    return client


def test_an_idle_session_is_signed_out(cast, alice_signed_in, audit_actions):
    client = alice_signed_in
    _idle_for(client, 16 * 60)

    response = client.get("/o/alpha/members/")

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next=/o/alpha/members/"
    assert "_auth_user_id" not in client.session
    actions = audit_actions(cast.alpha, actor=cast.alice)
    assert actions[-1] == "session_expired"
    assert "logout" not in actions  # an expiry is not recorded as a sign-out too
    page = client.get(response.url)
    assert b"You were signed out after a period of inactivity" in page.content


def test_an_active_session_stays_signed_in(cast, alice_signed_in, audit_actions):
    client = alice_signed_in
    _idle_for(client, 14 * 60)

    response = client.get("/o/alpha/members/")

    assert response.status_code == 200
    assert int(client.session["_auth_user_id"]) == cast.alice.pk
    # The visit counts as activity.
    assert client.session[LAST_SEEN_KEY] >= int(time.time()) - 5
    assert "session_expired" not in audit_actions(cast.alpha)


def test_activity_keeps_moving_the_deadline(cast, alice_signed_in):
    client = alice_signed_in
    for _ in range(3):
        _idle_for(client, 14 * 60)
        assert client.get("/o/alpha/").status_code == 200

    assert int(client.session["_auth_user_id"]) == cast.alice.pk


def test_pages_outside_a_firm_expire_too(cast, alice_signed_in):
    client = alice_signed_in
    _idle_for(client, 16 * 60)

    response = client.get(reverse("accounts:security"))

    assert response.url.startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_the_strictest_firm_sets_the_timeout(cast, client, sign_in):
    with platform_bypass():
        Membership.objects.create(
            organization=cast.beta, user=cast.alice, role=Role.STAFF
        )
    _set_timeout(cast.alpha, 120)
    _set_timeout(cast.beta, 10)
    sign_in("alice@alpha.test")
    _idle_for(client, 11 * 60)

    response = client.get("/o/alpha/")

    assert response.url.startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_a_long_timeout_is_honoured(cast, client, sign_in):
    _set_timeout(cast.alpha, 120)
    sign_in("alice@alpha.test")
    _idle_for(client, 90 * 60)

    assert client.get("/o/alpha/").status_code == 200
