from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from advisoros.tenancy.db import platform_bypass
from tests.conftest import PASSWORD

RESET = reverse("accounts:password_reset")
RESET_SENT = reverse("accounts:password_reset_done")
NEW_PASSWORD = "a-brand-new-passphrase-77"
LINK = re.compile(r"https?://testserver(/accounts/password-reset/[^/\s]+/[^/\s]+/)")


def _reset_link() -> str:
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match is not None, mail.outbox[0].body
    return match[1]


def _set_new_password(client, link: str, password: str = NEW_PASSWORD):
    # Django swaps the token for a session entry and redirects to .../set-password/.
    form_url = client.get(link).url
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_a_known_email_gets_one_reset_link(cast, client, audit_actions):
    response = client.post(RESET, {"email": "ALICE@alpha.test"})

    assert response.status_code == 302
    assert response.url == RESET_SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@alpha.test"]
    assert mail.outbox[0].subject == "Reset your AdvisorOS password"
    assert _reset_link().startswith("/accounts/password-reset/")
    assert audit_actions(cast.alpha, target_user=cast.alice) == [
        "password_reset_requested"
    ]


def test_the_link_sets_a_new_password_that_signs_in(
    cast, client, sign_in, audit_actions
):
    client.post(RESET, {"email": "alice@alpha.test"})

    response = _set_new_password(client, _reset_link())

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "password_reset"
    assert sign_in("alice@alpha.test", PASSWORD).status_code == 200  # old one refused
    assert sign_in("alice@alpha.test", NEW_PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.alice.pk


def test_the_link_works_once(cast, client):
    client.post(RESET, {"email": "alice@alpha.test"})
    link = _reset_link()
    _set_new_password(client, link)

    response = client.get(link, follow=True)

    assert response.status_code == 200
    assert b"This link has expired" in response.content
    assert not response.context["validlink"]


def test_a_tampered_link_is_refused(cast, client):
    client.post(RESET, {"email": "alice@alpha.test"})
    link = _reset_link()
    tampered = link[:-3] + ("x" if link[-3] != "x" else "y") + link[-2:]

    response = client.get(tampered, follow=True)

    assert b"This link has expired" in response.content


def test_the_new_password_must_be_strong(cast, client, sign_in):
    client.post(RESET, {"email": "alice@alpha.test"})

    response = _set_new_password(client, _reset_link(), "short")

    assert response.status_code == 200
    assert b"too short" in response.content
    assert sign_in("alice@alpha.test", PASSWORD).status_code == 302


def test_an_unknown_email_gets_nothing_and_the_same_answer(cast, client):
    known = client.post(RESET, {"email": "alice@alpha.test"})
    mail.outbox.clear()

    unknown = client.post(RESET, {"email": "nobody@nowhere.test"})

    assert unknown.status_code == known.status_code == 302
    assert unknown.url == known.url == RESET_SENT
    assert mail.outbox == []
    page = client.get(unknown.url)
    assert b"Check your email" in page.content


def test_a_deactivated_account_gets_no_link(cast, client, audit_actions):
    with platform_bypass():
        cast.sam.is_active = False
        cast.sam.save(update_fields=["is_active"])

    response = client.post(RESET, {"email": "sam@alpha.test"})

    assert response.url == RESET_SENT
    assert mail.outbox == []
    assert "password_reset_requested" not in audit_actions(cast.alpha)


# Changing the password while signed in ---------------------------------------------


def test_a_signed_in_person_changes_their_password(
    cast, login_as, sign_in, audit_actions
):
    client = login_as(cast.alice)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:security")
    # Still signed in: the session follows the new password.
    assert client.get(reverse("accounts:security")).status_code == 200
    assert audit_actions(cast.alpha, actor=cast.alice)[-1] == "password_changed"
    client.post(reverse("accounts:logout"))
    assert sign_in("alice@alpha.test", NEW_PASSWORD).status_code == 302


def test_changing_the_password_needs_the_old_one(cast, login_as, audit_actions):
    client = login_as(cast.alice)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "not-the-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content
    cast.alice.refresh_from_db()
    assert cast.alice.check_password(PASSWORD)
    assert "password_changed" not in audit_actions(cast.alpha)


def test_changing_the_password_signs_out_other_sessions(cast, client, login_as):
    other = type(client)()
    other.force_login(cast.alice)
    client = login_as(cast.alice)

    client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert other.get(reverse("accounts:security")).url.startswith(
        reverse("accounts:login")
    )
