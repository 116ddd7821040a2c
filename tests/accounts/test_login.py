from __future__ import annotations

import pytest
from django.urls import reverse

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Role
from tests.conftest import PASSWORD

LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")


def _signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


@pytest.mark.parametrize(
    "email", ["alice@alpha.test", "ALICE@ALPHA.TEST", "  Alice@Alpha.Test "]
)
def test_it_signs_in_with_the_email_in_any_case(cast, client, sign_in, email):
    response = sign_in(email)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert _signed_in_as(client) == cast.alice.pk


def test_it_refuses_a_wrong_password(cast, client, sign_in, audit_actions):
    response = sign_in("alice@alpha.test", "not-the-password")

    assert response.status_code == 200
    assert b"Please enter a correct email and password" in response.content
    assert _signed_in_as(client) is None
    assert audit_actions(cast.alpha, target_user=cast.alice) == ["login_failure"]


def test_it_refuses_a_deactivated_account(cast, client, sign_in):
    with platform_bypass():
        cast.sam.is_active = False
        cast.sam.save(update_fields=["is_active"])

    response = sign_in("sam@alpha.test")

    assert response.status_code == 200
    assert b"Please enter a correct email and password" in response.content
    assert _signed_in_as(client) is None


def test_it_follows_a_same_host_next(cast, client):
    response = client.post(
        LOGIN,
        {
            "username": "alice@alpha.test",
            "password": PASSWORD,
            "next": "/o/alpha/members/",
        },
    )

    assert response.status_code == 302
    assert response.url == "/o/alpha/members/"


def test_it_reads_next_from_the_query_string(cast, client):
    response = client.post(
        f"{LOGIN}?next=/accounts/security/",
        {"username": "alice@alpha.test", "password": PASSWORD},
    )

    assert response.url == "/accounts/security/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_it_ignores_an_external_next(cast, client, target):
    response = client.post(
        LOGIN, {"username": "alice@alpha.test", "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert _signed_in_as(client) == cast.alice.pk


def test_the_login_page_does_not_echo_an_external_next(db, client):
    response = client.get(f"{LOGIN}?next=https://evil.example/")

    assert response.status_code == 200
    assert b"evil.example" not in response.content


def test_a_signed_in_person_visiting_login_goes_home(cast, login_as):
    client = login_as(cast.alice)

    response = client.get(f"{LOGIN}?next=https://evil.example/")

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_logout_refuses_get(cast, login_as):
    client = login_as(cast.alice)

    response = client.get(LOGOUT)

    assert response.status_code == 405
    assert _signed_in_as(client) == cast.alice.pk


def test_logout_ends_the_session(cast, login_as, audit_actions):
    client = login_as(cast.alice)

    response = client.post(LOGOUT)

    assert response.status_code == 302
    assert response.url == LOGIN
    assert _signed_in_as(client) is None
    assert client.get("/o/alpha/").status_code == 302
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "logout"


def test_a_person_without_a_firm_sees_the_no_firm_page(db, client, sign_in):
    with platform_bypass():
        User.objects.create_user("nobody@example.test", PASSWORD, name="No Body")
    sign_in("nobody@example.test")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert b"in a firm yet" in response.content
    assert reverse("accounts:firm_create").encode() in response.content


def test_home_sends_anonymous_visitors_to_login(db, client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_home_goes_to_the_last_firm_visited(cast, login_as):
    with platform_bypass():
        Membership.objects.create(
            organization=cast.beta, user=cast.alice, role=Role.STAFF
        )
    client = login_as(cast.alice)

    # No firm visited yet: the first by name.
    assert client.get(reverse("home")).url == "/o/alpha/"

    assert client.get("/o/beta/").status_code == 200
    assert client.get(reverse("home")).url == "/o/beta/"

    assert client.get("/o/alpha/").status_code == 200
    assert client.get(reverse("home")).url == "/o/alpha/"


def test_home_ignores_a_remembered_firm_the_person_left(cast, login_as):
    client = login_as(cast.alice)
    session = client.session
    session["active_org"] = "beta"  # not one of alice's firms
    session.save()

    assert client.get(reverse("home")).url == "/o/alpha/"
