from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    get_hasher,
    identify_hasher,
)
from django.urls import reverse

from advisoros import settings as production_settings
from advisoros.accounts.models import User
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


def test_it_creates_the_person_the_firm_and_the_ownership(db, client, audit_actions):
    response = client.post(SIGNUP, _signup_data())

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


def test_it_uses_the_web_address_given(db, client):
    response = client.post(SIGNUP, _signup_data(slug="Gamma"))

    assert response.url == "/o/gamma/"
    assert Organization.objects.filter(slug="gamma").exists()


@pytest.mark.parametrize(
    ("firm_name", "slug"), [("Alpha", "alpha-2"), ("Admin", "admin-firm")]
)
def test_a_derived_web_address_avoids_taken_and_reserved_ones(
    cast, client, firm_name, slug
):
    response = client.post(SIGNUP, _signup_data(firm_name=firm_name))

    assert response.url == f"/o/{slug}/"
    assert _owners_of(slug) == ["greta@gamma.test"]


@pytest.mark.parametrize("email", ["alice@alpha.test", "ALICE@Alpha.Test"])
def test_it_refuses_an_email_that_has_an_account(cast, client, email):
    response = client.post(SIGNUP, _signup_data(email=email))

    assert response.status_code == 200
    assert b"An account with this email exists" in response.content
    assert not Organization.objects.filter(name="Gamma Tax Partners").exists()
    assert "_auth_user_id" not in client.session


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


def test_passwords_are_stored_with_the_configured_hasher(db, client):
    client.post(SIGNUP, _signup_data())

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
