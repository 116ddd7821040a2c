from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    get_hasher,
    identify_hasher,
)
from django.test import Client
from django.urls import reverse

from advisoros import settings as production_settings
from advisoros.accounts.models import User, normalize_email
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role
from tests.conftest import PASSWORD

SIGNUP = reverse("accounts:signup")
FIRM_CREATE = reverse("accounts:firm_create")


def _signup_data(**overrides) -> dict[str, str]:
    return {
        "firm_name": "Gamma Tax Partners",
        "slug": "",
        "name": "Greta Gamma",
        "email": "Greta@Gamma.test",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def _owners_of(slug: str) -> list[str]:
    with platform_bypass():
        return list(
            Membership.objects.filter(organization__slug=slug, role=Role.OWNER)
            .order_by("user__email")
            .values_list("user__email", flat=True)
        )


def _sign_up(client, mailoutbox, **overrides):
    """Post the form, then follow the emailed link and press its button."""
    sent = client.post(SIGNUP, _signup_data(**overrides))
    assert sent.status_code == 200
    assert b"Check your email" in sent.content
    (email,) = mailoutbox
    link = re.search(r"http://\S+/accounts/signup/\S+/", email.body).group(0)
    path = link.split("127.0.0.1:8000", 1)[-1]
    assert client.get(path).status_code == 200
    return client.post(path)


def test_it_creates_the_person_the_firm_and_the_ownership(
    db, client, mailoutbox, audit_actions
):
    response = _sign_up(client, mailoutbox)

    assert response.status_code == 302
    assert response.url == "/o/gamma-tax-partners/"
    user = User.objects.get(email="greta@gamma.test")
    assert user.name == "Greta Gamma"
    organization = Organization.objects.get(slug="gamma-tax-partners")
    assert organization.name == "Gamma Tax Partners"
    assert _owners_of("gamma-tax-partners") == ["greta@gamma.test"]
    assert audit_actions(organization) == ["firm_created", "login_success"]
    # Signed in, and the new firm opens.
    assert int(client.session["_auth_user_id"]) == user.pk
    assert b"Gamma Tax Partners" in client.get(response.url).content


def test_nothing_is_created_before_the_email_is_confirmed(db, client, mailoutbox):
    response = client.post(SIGNUP, _signup_data())

    assert response.status_code == 200
    assert b"greta@gamma.test" in response.content
    assert not User.objects.filter(email="greta@gamma.test").exists()
    assert not Organization.objects.filter(slug="gamma-tax-partners").exists()
    assert "_auth_user_id" not in client.session
    (email,) = mailoutbox
    assert email.to == ["greta@gamma.test"]
    assert "Gamma Tax Partners" in email.body


def test_opening_the_link_creates_nothing_until_its_button_is_pressed(
    db, client, mailoutbox
):
    client.post(SIGNUP, _signup_data())
    (email,) = mailoutbox
    path = "/accounts/signup/" + email.body.split("/accounts/signup/")[1].split()[0]

    client.get(path)  # a mail scanner's visit

    assert not User.objects.filter(email="greta@gamma.test").exists()
    assert client.post(path).status_code == 302
    # Used once: the link is spent.
    assert client.post(path).status_code == 410
    assert User.objects.filter(email="greta@gamma.test").count() == 1


def test_a_forged_or_expired_link_creates_nothing(db, client, mailoutbox, settings):
    client.post(SIGNUP, _signup_data())
    (email,) = mailoutbox
    path = "/accounts/signup/" + email.body.split("/accounts/signup/")[1].split()[0]

    assert client.post(path[:-3] + "xx/").status_code == 410
    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert client.post(path).status_code == 410
    assert not User.objects.filter(email="greta@gamma.test").exists()


def test_it_uses_the_web_address_given(db, client, mailoutbox):
    response = _sign_up(client, mailoutbox, slug="Gamma")

    assert response.url == "/o/gamma/"
    assert Organization.objects.filter(slug="gamma").exists()


@pytest.mark.parametrize(
    ("firm_name", "slug"), [("Alpha", "alpha-2"), ("Admin", "admin-firm")]
)
def test_a_derived_web_address_avoids_taken_and_reserved_ones(
    cast, client, mailoutbox, firm_name, slug
):
    response = _sign_up(client, mailoutbox, firm_name=firm_name)

    assert response.url == f"/o/{slug}/"
    assert _owners_of(slug) == ["greta@gamma.test"]


@pytest.mark.parametrize("email", ["alice@alpha.test", "ALICE@Alpha.Test"])
def test_an_email_with_an_account_gets_the_same_answer_and_a_note(
    cast, client, mailoutbox, email
):
    fresh = Client().post(SIGNUP, _signup_data(email="nobody@new.test"))
    mailoutbox.clear()

    response = client.post(SIGNUP, _signup_data(email=email))

    assert response.status_code == fresh.status_code == 200
    # The same page, but for the address it repeats.
    assert _comparable(response, normalize_email(email)) == _comparable(
        fresh, "nobody@new.test"
    )
    assert b"exists" not in response.content
    assert not Organization.objects.filter(name="Gamma Tax Partners").exists()
    assert "_auth_user_id" not in client.session
    # Alice hears of it, with the way to sign in or reset her password.
    (note,) = mailoutbox
    assert note.to == ["alice@alpha.test"]
    assert "Someone tried to sign up" in note.subject
    assert "/accounts/login/" in note.body
    assert "/accounts/password-reset/" in note.body
    assert "/accounts/signup/" not in note.body  # no link that makes anything
    assert User.objects.get(email="alice@alpha.test").check_password(PASSWORD)


def test_an_address_that_got_an_account_meanwhile_cannot_confirm(
    cast, client, mailoutbox
):
    client.post(SIGNUP, _signup_data(email="late@new.test"))
    (email,) = mailoutbox
    path = "/accounts/signup/" + email.body.split("/accounts/signup/")[1].split()[0]
    User.objects.create_user("late@new.test", PASSWORD, name="Late")

    assert client.post(path).status_code == 410
    assert not Organization.objects.filter(name="Gamma Tax Partners").exists()


def _comparable(response, address: str) -> str:
    """The page without what differs on every answer (nonces, CSRF tokens)."""
    html = response.content.decode().replace(address, "ADDRESS")
    html = re.sub(r'(nonce|value)="[^"]*"', r'\1=""', html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


@pytest.mark.parametrize("slug", ["admin", "accounts", "o", "alpha", "ALPHA"])
def test_it_refuses_a_reserved_or_taken_web_address(cast, client, slug):
    response = client.post(SIGNUP, _signup_data(slug=slug))

    assert response.status_code == 200
    assert b"This address is taken" in response.content
    assert not User.objects.filter(email="greta@gamma.test").exists()
    assert not Organization.objects.filter(name="Gamma Tax Partners").exists()


def test_it_refuses_mismatched_or_weak_passwords(db, client):
    response = client.post(SIGNUP, _signup_data(password2="something-else-42"))
    assert b"The two passwords differ" in response.content

    response = client.post(SIGNUP, _signup_data(password1="short", password2="short"))
    assert b"too short" in response.content

    assert not User.objects.filter(email="greta@gamma.test").exists()


def test_a_signed_in_person_adds_a_second_firm(cast, login_as, audit_actions):
    client = login_as(cast.oscar)

    page = client.get(FIRM_CREATE)
    assert page.status_code == 200
    assert b'name="password1"' not in page.content  # no account fields this time

    response = client.post(FIRM_CREATE, {"firm_name": "Delta Advisors", "slug": ""})

    assert response.status_code == 302
    assert response.url == "/o/delta-advisors/"
    assert _owners_of("delta-advisors") == ["oscar@beta.test"]
    assert _owners_of("beta") == ["oscar@beta.test"]  # the first firm is untouched
    assert client.get("/o/delta-advisors/").status_code == 200
    delta = Organization.objects.get(slug="delta-advisors")
    assert audit_actions(delta, actor=cast.oscar) == ["firm_created"]


def test_a_signed_in_person_cannot_take_a_firms_address(cast, login_as):
    client = login_as(cast.oscar)

    response = client.post(FIRM_CREATE, {"firm_name": "Not Alpha", "slug": "alpha"})

    assert response.status_code == 200
    assert b"This address is taken" in response.content
    assert _owners_of("alpha") == ["alice@alpha.test"]


def test_passwords_are_stored_with_the_configured_hasher(db, client, mailoutbox):
    _sign_up(client, mailoutbox)

    user = User.objects.get(email="greta@gamma.test")
    assert identify_hasher(user.password).algorithm == get_hasher().algorithm
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


def test_production_hashes_with_argon2_first():
    # The tests hash with MD5 for speed; production must still lead with Argon2.
    assert "Argon2" in production_settings.PASSWORD_HASHERS[0]
    assert settings.PASSWORD_HASHERS != production_settings.PASSWORD_HASHERS

    # And the library behind it is installed: a real Argon2 hash verifies.
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("wrong-password", encoded)
