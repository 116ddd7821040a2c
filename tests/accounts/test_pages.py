"""The sign-in and security pages render, and carry no script the CSP would block."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

SCRIPT_TAG = re.compile(rb"<script\b[^>]*>", re.IGNORECASE)
NONCE = re.compile(rb'\bnonce="([^"]+)"')


def _assert_scripts_allowed(response) -> None:
    """Every <script> loads a file (script-src 'self') or carries this response's nonce."""
    tags = SCRIPT_TAG.findall(response.content)
    assert tags, "expected the base template's scripts"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    for tag in tags:
        nonce = NONCE.search(tag)
        if nonce is not None:
            assert f"'nonce-{nonce[1].decode()}'" in policy
        else:
            assert b"src=" in tag, tag


@pytest.fixture
def verify_page(cast, client, sign_in):
    TOTPDevice.objects.create(user=cast.alice, name="Authenticator app")
    sign_in("alice@alpha.test")
    return client


def test_the_login_page_renders_with_allowed_scripts(db, client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content
    _assert_scripts_allowed(response)


def test_the_code_page_renders_with_allowed_scripts(verify_page):
    response = verify_page.get(reverse("accounts:login_verify"))

    assert response.status_code == 200
    assert b'autocomplete="one-time-code"' in response.content
    _assert_scripts_allowed(response)


def test_the_security_page_renders_with_allowed_scripts(cast, login_as):
    response = login_as(cast.alice).get(reverse("accounts:security"))

    assert response.status_code == 200
    assert b"Two-factor sign-in" in response.content
    _assert_scripts_allowed(response)


def test_the_setup_page_renders_with_allowed_scripts(cast, login_as):
    response = login_as(cast.alice).post(reverse("accounts:two_factor_setup"))

    assert response.status_code == 200
    # The QR code is an inline image, which img-src allows.
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    _assert_scripts_allowed(response)


@pytest.mark.parametrize(
    "name",
    ["signup", "password_reset", "password_reset_done", "password_reset_complete"],
)
def test_the_other_public_pages_render_with_allowed_scripts(db, client, name):
    response = client.get(reverse(f"accounts:{name}"))

    assert response.status_code == 200
    _assert_scripts_allowed(response)
