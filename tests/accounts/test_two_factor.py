from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisoros.accounts import two_factor
from advisoros.accounts.models import User
from advisoros.tenancy.models import Organization
from tests.conftest import PASSWORD

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login_verify")
SECURITY = reverse("accounts:security")
SETUP = reverse("accounts:two_factor_setup")
CONFIRM = reverse("accounts:two_factor_confirm")
DISABLE = reverse("accounts:two_factor_disable")
REQUIRED = reverse("accounts:two_factor_required")


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the person's authenticator app shows (`steps_ahead` 30-second steps on).

    A TOTP code is accepted once: a second sign-in in the same step uses the next one.
    """
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    # Clear of every step the device could accept, even across a step boundary.
    valid = {code_for(device, steps) for steps in range(-2, 3)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)


@pytest.fixture
def enrol():
    """Give a person a confirmed authenticator and recovery codes."""

    def _enrol(user: User) -> tuple[TOTPDevice, list[str]]:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=True
        )
        return device, two_factor.recovery_codes_regenerate(user)

    return _enrol


def _require_two_factor(organization: Organization) -> None:
    organization.require_two_factor = True
    organization.save(update_fields=["require_two_factor"])


def _verified(client, sign_in, device: TOTPDevice, email: str):
    """Sign in through both steps, so the session has passed two-factor."""
    sign_in(email)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    return client


def _signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def _is_verified(client) -> bool:
    return client.get(SECURITY).wsgi_request.user.is_verified()


# Set-up ------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret(cast, login_as):
    client = login_as(cast.alice)

    response = client.post(SETUP)

    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=cast.alice)
    assert not device.confirmed
    assert b'src="data:image/svg+xml' in response.content
    secret = base64.b32encode(device.bin_key).decode()
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped.encode() in response.content


def test_setup_is_post_only(cast, login_as):
    client = login_as(cast.alice)

    assert client.get(SETUP).status_code == 405
    assert not TOTPDevice.objects.filter(user=cast.alice).exists()


def test_confirming_with_a_real_code_turns_two_factor_on(cast, login_as, audit_actions):
    client = login_as(cast.alice)
    client.post(SETUP)
    device = TOTPDevice.objects.get(user=cast.alice)

    response = client.post(CONFIRM, {"code": code_for(device)})

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert code.encode() in response.content
    assert StaticToken.objects.filter(device__user=cast.alice).count() == 10
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "2fa_enabled"
    assert _is_verified(client)
    assert b"Recovery codes left: 10" in client.get(SECURITY).content


def test_confirming_with_a_wrong_code_is_refused(cast, login_as, audit_actions):
    client = login_as(cast.alice)
    client.post(SETUP)
    device = TOTPDevice.objects.get(user=cast.alice)

    response = client.post(CONFIRM, {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    device.refresh_from_db()
    assert not device.confirmed
    assert not two_factor.has_two_factor(cast.alice)
    assert "2fa_enabled" not in audit_actions(cast.alpha)


def test_confirming_without_a_setup_in_progress_starts_over(cast, login_as):
    client = login_as(cast.alice)

    response = client.post(CONFIRM, {"code": "123456"})

    assert response.status_code == 302
    assert response.url == SECURITY


def test_a_new_authenticator_replaces_the_old_one(cast, client, sign_in, enrol):
    old, _ = enrol(cast.alice)
    _verified(client, sign_in, old, "alice@alpha.test")
    client.post(SETUP)
    new = TOTPDevice.objects.get(user=cast.alice, confirmed=False)

    client.post(CONFIRM, {"code": code_for(new)})

    assert list(TOTPDevice.objects.filter(user=cast.alice)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


# Sign-in ------------------------------------------------------------------------


def test_sign_in_with_two_factor_asks_for_a_code_first(cast, client, sign_in, enrol):
    enrol(cast.alice)

    response = sign_in("alice@alpha.test")

    assert response.status_code == 302
    assert response.url == VERIFY
    assert _signed_in_as(client) is None
    assert client.get("/o/alpha/").url.startswith(LOGIN)
    assert client.get(VERIFY).status_code == 200


def test_a_valid_code_signs_in_and_verifies_the_session(
    cast, client, sign_in, enrol, audit_actions
):
    device, _ = enrol(cast.alice)
    sign_in("alice@alpha.test")

    response = client.post(VERIFY, {"code": code_for(device)})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert _signed_in_as(client) == cast.alice.pk
    assert client.session["otp_device_id"] == device.persistent_id
    assert _is_verified(client)
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "login_success"


def test_a_code_is_accepted_once(cast, client, sign_in, enrol):
    device, _ = enrol(cast.alice)
    code = code_for(device)
    sign_in("alice@alpha.test")
    client.post(VERIFY, {"code": code})
    client.post(reverse("accounts:logout"))

    sign_in("alice@alpha.test")
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert _signed_in_as(client) is None


def test_a_wrong_code_does_not_sign_in(cast, client, sign_in, enrol, audit_actions):
    device, _ = enrol(cast.alice)
    sign_in("alice@alpha.test")

    response = client.post(VERIFY, {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert _signed_in_as(client) is None
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "2fa_failure"


def test_the_next_page_survives_the_code_step(cast, client, enrol):
    device, _ = enrol(cast.alice)
    target = "/o/alpha/members/?role=staff&page=2"

    response = client.post(
        LOGIN, {"username": "alice@alpha.test", "password": PASSWORD, "next": target}
    )
    assert response.url == f"{VERIFY}?{urlencode({'next': target})}"

    page = client.get(response.url)
    assert page.context["next"] == target
    response = client.post(
        response.url, {"code": code_for(device), "next": page.context["next"]}
    )

    assert response.url == target


def test_a_recovery_code_works_once(cast, client, sign_in, enrol, audit_actions):
    _, codes = enrol(cast.alice)
    sign_in("alice@alpha.test")

    response = client.post(VERIFY, {"code": codes[0].upper()})

    assert response.status_code == 302
    assert _signed_in_as(client) == cast.alice.pk
    assert _is_verified(client)
    assert "recovery_code_used" in audit_actions(cast.alpha, actor=cast.alice)
    assert StaticToken.objects.filter(device__user=cast.alice).count() == 9

    client.post(reverse("accounts:logout"))
    sign_in("alice@alpha.test")
    response = client.post(VERIFY, {"code": codes[0]})

    assert response.status_code == 200
    assert _signed_in_as(client) is None


def test_five_wrong_codes_send_you_back_to_sign_in(cast, client, sign_in, enrol):
    device, _ = enrol(cast.alice)
    sign_in("alice@alpha.test")
    wrong = wrong_code_for(device)

    for _ in range(4):
        assert client.post(VERIFY, {"code": wrong}).status_code == 200
    response = client.post(VERIFY, {"code": wrong}, follow=True)

    assert response.redirect_chain[0] == (LOGIN, 302)
    assert b"Too many wrong codes" in response.content
    assert _signed_in_as(client) is None
    # The password step must be passed again.
    assert client.get(VERIFY).url == LOGIN


def test_the_code_step_needs_the_password_step(db, client):
    response = client.get(VERIFY)

    assert response.status_code == 302
    assert response.url == LOGIN


def test_the_code_step_refuses_a_person_deactivated_meanwhile(
    cast, client, sign_in, enrol
):
    device, _ = enrol(cast.alice)
    sign_in("alice@alpha.test")
    User.objects.filter(pk=cast.alice.pk).update(is_active=False)

    response = client.post(VERIFY, {"code": code_for(device)})

    assert response.status_code == 302
    assert response.url == LOGIN
    assert _signed_in_as(client) is None


# Enforcement by the firm ---------------------------------------------------------


def test_a_firm_requiring_two_factor_sends_a_person_without_it_to_set_it_up(
    cast, client, sign_in
):
    _require_two_factor(cast.alpha)

    response = sign_in("sam@alpha.test")

    assert response.url == SECURITY
    page = client.get(SECURITY)
    assert b"Alpha Accounting requires two-factor sign-in" in page.content
    blocked = client.get("/o/alpha/members/")
    assert blocked.status_code == 302
    assert blocked.url == f"{REQUIRED}?firm=alpha"
    assert b"Set up two-factor now" in client.get(blocked.url).content

    # Setting it up opens the firm.
    client.post(SETUP)
    device = TOTPDevice.objects.get(user=cast.sam)
    client.post(CONFIRM, {"code": code_for(device)})
    assert client.get("/o/alpha/members/").status_code == 200


def test_a_firm_requiring_two_factor_blocks_an_unverified_session(
    cast, login_as, enrol
):
    _require_two_factor(cast.alpha)
    device, _ = enrol(cast.sam)
    client = login_as(cast.sam)  # password only: the session is not verified

    response = client.get("/o/alpha/")

    assert response.status_code == 302
    assert response.url == f"{REQUIRED}?firm=alpha"
    assert client.post("/o/alpha/settings/", {}).url == f"{REQUIRED}?firm=alpha"

    response = client.post(response.url, {"code": code_for(device)})

    assert response.status_code == 302
    assert response.url == "/o/alpha/"
    assert client.get("/o/alpha/").status_code == 200


def test_the_required_page_refuses_a_wrong_code(cast, login_as, enrol):
    _require_two_factor(cast.alpha)
    device, _ = enrol(cast.sam)
    client = login_as(cast.sam)

    response = client.post(f"{REQUIRED}?firm=alpha", {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert client.get("/o/alpha/").status_code == 302


def test_the_required_page_does_not_name_another_firm(cast, login_as):
    client = login_as(cast.oscar)

    response = client.get(f"{REQUIRED}?firm=alpha")

    assert response.status_code == 200
    assert b"Alpha Accounting" not in response.content
    assert b"Your firm requires" in response.content


def test_other_firms_stay_open_without_two_factor(cast, login_as):
    _require_two_factor(cast.alpha)
    client = login_as(cast.oscar)

    assert client.get("/o/beta/").status_code == 200


# Turning it off -----------------------------------------------------------------


def test_turning_off_needs_the_password(cast, client, sign_in, enrol, audit_actions):
    device, _ = enrol(cast.alice)
    _verified(client, sign_in, device, "alice@alpha.test")

    response = client.post(DISABLE, {"password": "not-the-password"})

    assert response.status_code == 200
    assert b"That password is not correct" in response.content
    assert two_factor.has_two_factor(cast.alice)

    response = client.post(DISABLE, {"password": PASSWORD})

    assert response.status_code == 302
    assert response.url == SECURITY
    assert not TOTPDevice.objects.filter(user=cast.alice).exists()
    assert not StaticToken.objects.filter(device__user=cast.alice).exists()
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "2fa_disabled"


def test_turning_off_is_refused_while_a_firm_requires_it(
    cast, client, sign_in, enrol, audit_actions
):
    _require_two_factor(cast.alpha)
    device, _ = enrol(cast.alice)
    _verified(client, sign_in, device, "alice@alpha.test")

    response = client.post(DISABLE, {"password": PASSWORD})

    assert response.status_code == 200
    assert b"cannot be turned off" in response.content
    assert two_factor.has_two_factor(cast.alice)
    assert "2fa_disabled" not in audit_actions(cast.alpha)


def test_a_session_that_never_passed_two_factor_cannot_change_it(cast, login_as, enrol):
    # A session opened with the password alone (say, before two-factor was on)
    # must not replace or remove the authenticator.
    device, _ = enrol(cast.alice)
    client = login_as(cast.alice)

    for response in (
        client.post(SETUP),
        client.post(DISABLE, {"password": PASSWORD}),
    ):
        assert response.status_code == 302
        assert response.url == reverse("accounts:two_factor_required")
    assert list(TOTPDevice.objects.filter(user=cast.alice)) == [device]


# New recovery codes ---------------------------------------------------------------


def test_new_recovery_codes_need_a_verified_session(cast, client, sign_in, enrol):
    device, old_codes = enrol(cast.alice)
    sign_in("alice@alpha.test")
    client.post(VERIFY, {"code": code_for(device)})

    response = client.post(reverse("accounts:recovery_codes_new"))

    new_codes = response.context["codes"]
    assert len(new_codes) == 10
    assert set(new_codes).isdisjoint(old_codes)
    tokens = set(
        StaticToken.objects.filter(device__user=cast.alice).values_list(
            "token", flat=True
        )
    )
    assert tokens == set(new_codes)


def test_new_recovery_codes_are_refused_to_an_unverified_session(cast, login_as, enrol):
    _, codes = enrol(cast.alice)
    client = login_as(cast.alice)

    response = client.post(reverse("accounts:recovery_codes_new"))

    assert response.status_code == 302
    tokens = StaticToken.objects.filter(device__user=cast.alice)
    assert set(tokens.values_list("token", flat=True)) == set(codes)
