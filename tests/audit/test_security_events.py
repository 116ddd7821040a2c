"""Security events land in the log of every firm the person belongs to."""

from __future__ import annotations

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership
from tests.conftest import PASSWORD


def _events(org, action) -> list[AuditEvent]:
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action=action))


def test_a_sign_in_is_recorded_in_each_of_the_persons_firms(cast, client):
    with platform_bypass():
        Membership.objects.create(organization=cast.beta, user=cast.sam)
    client.post(
        "/accounts/login/",
        {"username": "sam@alpha.test", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Firefox/140",
    )
    for org in (cast.alpha, cast.beta):
        [event] = _events(org, AuditAction.LOGIN_SUCCESS)
        assert event.actor == cast.sam
        assert event.ip_address == "198.51.100.4"
        assert event.user_agent == "Firefox/140"


def test_a_failed_sign_in_names_the_email_tried_but_not_the_password(cast, client):
    client.post("/accounts/login/", {"username": "SAM@alpha.test", "password": "nope"})
    [event] = _events(cast.alpha, AuditAction.LOGIN_FAILURE)
    assert event.actor_email == "sam@alpha.test"
    assert event.target_user == cast.sam
    assert "nope" not in str(event.detail)
    assert _events(cast.beta, AuditAction.LOGIN_FAILURE) == []


def test_a_failed_sign_in_for_an_unknown_email_is_kept_for_the_platform_only(
    cast, client
):
    client.post("/accounts/login/", {"username": "ghost@x.test", "password": "x"})
    with platform_bypass():
        event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILURE)
    assert event.organization_id is None
    assert event.actor_email == "ghost@x.test"
    assert _events(cast.alpha, AuditAction.LOGIN_FAILURE) == []


def test_a_forged_forwarded_for_header_is_ignored_without_a_trusted_proxy(cast, client):
    client.post(
        "/accounts/login/",
        {"username": "sam@alpha.test", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
    )
    [event] = _events(cast.alpha, AuditAction.LOGIN_SUCCESS)
    assert event.ip_address == "198.51.100.4"


def test_behind_one_trusted_proxy_the_address_it_saw_is_used(cast, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        "/accounts/login/",
        {"username": "sam@alpha.test", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",  # the proxy
        # The client forged the first entry; our proxy appended the real one.
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9",
    )
    [event] = _events(cast.alpha, AuditAction.LOGIN_SUCCESS)
    assert event.ip_address == "198.51.100.9"


def test_sign_out_is_recorded(cast, client):
    client.force_login(cast.sam)
    client.post("/accounts/logout/")
    [event] = _events(cast.alpha, AuditAction.LOGOUT)
    assert event.actor == cast.sam
