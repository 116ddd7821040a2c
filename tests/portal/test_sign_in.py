"""Signing in to the portal: password, emailed code, authenticator app, lockout,
and the wall between the portal's session and the staff's."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django_otp.oath import TOTP

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from portal.models import Activity, PortalActivity, PortalGrant
from tests.factories import PASSWORD
from tests.portal.builders import make_contact, make_grant, make_portal_account

pytestmark = pytest.mark.django_db

SIGN_IN = "/p/alpha/"


def _sign_in(http: HttpClient, email: str, password: str, slug: str = "alpha"):
    return http.post(f"/p/{slug}/", {"email": email, "password": password})


def test_a_contact_signs_in_with_a_password_and_sees_home(pcast, client):
    response = _sign_in(client, "joan@client.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/p/alpha/home/"
    with tenant_context(pcast.jane.organization):
        row = PortalActivity.objects.get(action=Activity.SIGNED_IN)
    assert row.contact_id == pcast.joan.pk
    assert row.ip_address == "127.0.0.1"
    with platform_bypass():
        assert AuditEvent.objects.filter(
            action=AuditAction.PORTAL_SIGNED_IN, actor_email="joan@client.test"
        ).exists()


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("joan@client.test", "wrong-password"),
        ("nobody@client.test", PASSWORD),
        ("bruno@beta-client.test", PASSWORD),  # Beta's contact: not Alpha's
    ],
)
def test_wrong_or_foreign_credentials_get_one_answer(pcast, client, email, password):
    make_portal_account("bruno@beta-client.test", PASSWORD)
    response = _sign_in(client, email, password)
    assert response.status_code == 400
    assert "do not match an account with access" in response.content.decode()
    assert client.get("/p/alpha/home/")["Location"] == SIGN_IN


def test_a_revoked_grant_closes_the_portal(pcast, client):
    with tenant_context(pcast.jane.organization):
        PortalGrant.objects.filter(pk=pcast.joan_grant.pk).update(
            revoked_at="2026-01-01T00:00Z"
        )
    assert _sign_in(client, "joan@client.test", PASSWORD).status_code == 400


def test_five_failures_lock_the_email_out_for_that_address(pcast, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _sign_in(client, "joan@client.test", "nope").status_code == 400
    assert _sign_in(client, "joan@client.test", "nope").status_code == 429
    # Even the right password waits out the cool-off.
    locked = _sign_in(client, "joan@client.test", PASSWORD)
    assert locked.status_code == 429
    assert "paused" in locked.content.decode()
    with tenant_context(pcast.jane.organization):
        assert PortalActivity.objects.filter(action=Activity.LOCKED_OUT).exists()
    # Another address is not locked.
    other = HttpClient(REMOTE_ADDR="10.0.0.9")
    assert _sign_in(other, "joan@client.test", PASSWORD).status_code == 302


def test_spraying_many_emails_from_one_address_locks_the_address(
    pcast, client, settings
):
    """One password tried over many accounts never reaches any email's limit;
    the address's own limit stops it, for every email, the right one too."""
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 12
    answers = [
        _sign_in(client, f"person{n}@client.test", "Spring2026!").status_code
        for n in range(12)
    ]
    assert answers == [400] * 11 + [429]

    # Now Joan, with her own right password, waits from this address too.
    locked = _sign_in(client, "joan@client.test", PASSWORD)
    assert locked.status_code == 429
    assert "paused" in locked.content.decode()
    # Another address is not locked.
    other = HttpClient(REMOTE_ADDR="10.0.0.9")
    assert _sign_in(other, "joan@client.test", PASSWORD).status_code == 302


def test_a_success_from_the_address_does_not_reset_its_count(pcast, client, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(5):
        _sign_in(client, f"person{n}@client.test", "Spring2026!")
    assert _sign_in(client, "joan@client.test", PASSWORD).status_code == 302
    client.post("/p/alpha/sign-out/")

    assert _sign_in(client, "person9@client.test", "Spring2026!").status_code == 429


def _code_from_outbox() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_an_emailed_code_signs_in_without_a_password(pcast, client):
    response = client.post("/p/alpha/sign-in/code/", {"email": "Joan@Client.test"})
    assert response["Location"] == "/p/alpha/sign-in/code/enter/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["joan@client.test"]
    assert "Alpha Accounting" in message.subject
    html = message.alternatives[0][0]
    assert "Alpha Accounting" in html and "#1d4ed8" in html  # the firm's look
    code = _code_from_outbox()
    response = client.post("/p/alpha/sign-in/code/enter/", {"code": code})
    assert response["Location"] == "/p/alpha/home/"
    # A code works once.
    client.post("/p/alpha/sign-out/")
    client.post("/p/alpha/sign-in/code/", {"email": "joan@client.test"})
    assert (
        client.post("/p/alpha/sign-in/code/enter/", {"code": code}).status_code == 400
    )


def test_no_code_is_sent_to_an_address_without_access_but_the_page_says_the_same(
    pcast, client
):
    response = client.post("/p/alpha/sign-in/code/", {"email": "carl@beta.test"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "If <strong>carl@beta.test</strong> may use this portal" in page
    assert mail.outbox == []


def test_a_code_is_spent_after_five_wrong_tries(pcast, client, settings):
    settings.AXES_FAILURE_LIMIT = 50
    client.post("/p/alpha/sign-in/code/", {"email": "joan@client.test"})
    code = _code_from_outbox()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert (
            client.post("/p/alpha/sign-in/code/enter/", {"code": wrong}).status_code
            == 400
        )
    assert (
        client.post("/p/alpha/sign-in/code/enter/", {"code": code}).status_code == 400
    )


def _totp_now(secret_hex: str) -> str:
    return f"{TOTP(bytes.fromhex(secret_hex)).token():06d}"


def test_a_firm_that_requires_two_factor_sends_the_client_to_set_it_up(pcast, client):
    organization = pcast.jane.organization
    organization.portal_require_two_factor = True
    organization.save()
    response = _sign_in(client, "joan@client.test", PASSWORD)
    assert response["Location"] == "/p/alpha/sign-in/two-factor/setup/"
    # Nothing else opens before the second factor.
    assert (
        client.get("/p/alpha/home/")["Location"] == "/p/alpha/sign-in/two-factor/setup/"
    )
    request_url = f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    assert client.get(request_url)["Location"] == "/p/alpha/sign-in/two-factor/"
    assert client.get("/p/alpha/sign-in/two-factor/setup/").status_code == 200
    pcast.joan_account.refresh_from_db()
    code = _totp_now(pcast.joan_account.totp_secret)
    response = client.post("/p/alpha/sign-in/two-factor/setup/", {"code": code})
    assert response["Location"] == "/p/alpha/home/"
    pcast.joan_account.refresh_from_db()
    assert pcast.joan_account.has_two_factor
    # Next time: password, then the app's code; the same code is not taken twice.
    client.post("/p/alpha/sign-out/")
    assert _sign_in(client, "joan@client.test", PASSWORD)["Location"] == (
        "/p/alpha/sign-in/two-factor/"
    )
    assert (
        client.post("/p/alpha/sign-in/two-factor/", {"code": code}).status_code == 400
    )
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    assert (
        client.post("/p/alpha/sign-in/two-factor/", {"code": wrong}).status_code == 400
    )
    assert client.get("/p/alpha/home/")["Location"] == "/p/alpha/sign-in/two-factor/"


def test_a_staff_login_never_opens_the_portal_nor_a_portal_login_a_staff_page(
    pcast, cast, client
):
    # Sam is a member of Alpha and also Jane's contact, with one email for both.
    sam_contact = make_contact(pcast.jane, "Sam", "Staff", "sam@alpha.test")
    make_grant(sam_contact, pcast.jane)
    make_portal_account("sam@alpha.test", "another-pass-2026")
    client.force_login(cast.sam)
    assert client.get("/p/alpha/home/")["Location"] == SIGN_IN
    client.logout()
    assert _sign_in(client, "sam@alpha.test", "another-pass-2026").status_code == 302
    assert client.get("/p/alpha/home/").status_code == 200
    staff = client.get("/o/alpha/")
    assert staff.status_code == 302
    assert staff["Location"].startswith("/accounts/login/")
    # The staff password does not open the portal.
    client.post("/p/alpha/sign-out/")
    assert _sign_in(client, "sam@alpha.test", PASSWORD).status_code == 400


def test_one_email_across_two_firms_switches_between_them(pcast, cast, client):
    bruno_side = make_contact(pcast.bruno_client, "Joan", "Doe", "joan@client.test")
    make_grant(bruno_side, pcast.bruno_client)
    _sign_in(client, "joan@client.test", PASSWORD)
    firms = client.get("/p/alpha/firms/").content.decode()
    assert "Alpha Accounting" in firms and "Beta Bookkeeping" in firms
    beta_home = client.get("/p/beta/home/")
    assert beta_home.status_code == 200
    assert "Beta request" in beta_home.content.decode()
    assert "2026 tax documents" not in beta_home.content.decode()
    # Beta's own rule applies there: it asks for an authenticator app.
    cast.beta.portal_require_two_factor = True
    cast.beta.save()
    assert (
        client.get("/p/beta/home/")["Location"] == "/p/beta/sign-in/two-factor/setup/"
    )
    assert client.get("/p/alpha/home/").status_code == 200


def test_an_account_without_access_here_is_asked_to_sign_in(pcast, client):
    make_portal_account("stranger@x.test", PASSWORD)
    assert _sign_in(client, "stranger@x.test", PASSWORD).status_code == 400
    _sign_in(client, "joan@client.test", PASSWORD)
    # Joan has no grant in Beta: Beta's sign-in page, no loop.
    assert client.get("/p/beta/home/")["Location"] == "/p/beta/"
    assert client.get("/p/beta/").status_code == 200


def test_an_unknown_firm_is_a_portal_404(client, db):
    response = client.get("/p/no-such-firm/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
