"""Inviting people into a firm and accepting the emailed link."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy import services
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Invitation, Membership, Organization, Role
from advisoros.tenancy.tokens import invitation_token
from tests.conftest import PASSWORD

INVITE_URL = "/o/alpha/members/invite/"
LINK = re.compile(r"https?://[^/\s]+(/accounts/invitations/[^/\s]+/)")


def _invite(client, capture, email: str, role: str = Role.STAFF):
    """POST the invite form; run the queued email job as the commit would."""
    with capture(execute=True):
        return client.post(INVITE_URL, {"email": email, "role": role}, follow=True)


def _open_invitations(org: Organization, email: str) -> list[Invitation]:
    with tenant_context(org):
        return list(
            Invitation.objects.filter(
                email__iexact=email, accepted_at=None, revoked_at=None
            )
        )


def _membership(org: Organization, email: str) -> Membership | None:
    with tenant_context(org):
        return (
            Membership.objects.select_related("user")
            .filter(user__email__iexact=email)
            .first()
        )


def _events(org: Organization, action: AuditAction) -> list[AuditEvent]:
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action=action).select_related("actor"))


def _link(invitation: Invitation) -> str:
    return reverse("accounts:invitation_accept", args=[invitation_token(invitation)])


def _update(invitation: Invitation, **fields) -> None:
    with platform_bypass():
        Invitation.objects.filter(pk=invitation.pk).update(**fields)


# Sending -----------------------------------------------------------------------


def test_an_admin_invites_by_email_and_the_email_carries_a_working_link(
    cast, login_as, django_capture_on_commit_callbacks
):
    client = login_as(cast.adam)
    response = _invite(
        client, django_capture_on_commit_callbacks, "Pat@Example.test", Role.MANAGER
    )

    assert response.status_code == 200
    assert "Invitation sent to pat@example.test." in response.content.decode()
    [invitation] = _open_invitations(cast.alpha, "pat@example.test")
    assert invitation.role == Role.MANAGER
    assert invitation.invited_by == cast.adam
    assert invitation.expires_at > timezone.now() + timedelta(days=6)

    [email] = mail.outbox
    assert email.to == ["pat@example.test"]
    assert "Alpha Accounting" in email.subject
    assert "Adam Admin invited you" in email.body
    path = LINK.search(email.body)[1]
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "Create account and join" in page.content.decode()


def test_it_records_invitation_sent_in_the_firm(
    cast, login_as, django_capture_on_commit_callbacks
):
    _invite(login_as(cast.adam), django_capture_on_commit_callbacks, "pat@ex.test")

    [event] = _events(cast.alpha, AuditAction.INVITATION_SENT)
    assert event.actor == cast.adam
    assert event.target == "pat@ex.test"
    assert event.detail == {"role": "staff"}
    assert _events(cast.beta, AuditAction.INVITATION_SENT) == []


def test_it_refuses_to_invite_an_active_member(
    cast, login_as, django_capture_on_commit_callbacks
):
    response = _invite(
        login_as(cast.adam), django_capture_on_commit_callbacks, "SAM@alpha.test"
    )

    assert "sam@alpha.test is already a member of Alpha Accounting." in (
        response.content.decode()
    )
    assert _open_invitations(cast.alpha, "sam@alpha.test") == []
    assert mail.outbox == []


def test_inviting_again_resends_the_same_invitation_with_a_new_expiry(
    cast, login_as, django_capture_on_commit_callbacks
):
    old_expiry = timezone.now() + timedelta(hours=1)
    _update(cast.alpha_invitation, expires_at=old_expiry)

    _invite(
        login_as(cast.adam),
        django_capture_on_commit_callbacks,
        "NEW@alpha.test",
        Role.MANAGER,
    )

    [invitation] = _open_invitations(cast.alpha, "new@alpha.test")
    assert invitation.pk == cast.alpha_invitation.pk
    assert invitation.expires_at > old_expiry + timedelta(days=6)
    assert invitation.role == Role.MANAGER
    assert [m.to for m in mail.outbox] == [["new@alpha.test"]]


def test_an_expired_open_invitation_is_resent_rather_than_duplicated(
    cast, login_as, django_capture_on_commit_callbacks
):
    _update(cast.alpha_invitation, expires_at=timezone.now() - timedelta(days=1))

    _invite(login_as(cast.adam), django_capture_on_commit_callbacks, "new@alpha.test")

    [invitation] = _open_invitations(cast.alpha, "new@alpha.test")
    assert invitation.pk == cast.alpha_invitation.pk
    assert invitation.is_open
    assert len(mail.outbox) == 1


def test_an_admin_cannot_invite_an_owner(
    cast, login_as, django_capture_on_commit_callbacks
):
    response = _invite(
        login_as(cast.adam),
        django_capture_on_commit_callbacks,
        "boss@ex.test",
        Role.OWNER,
    )

    assert "Select a valid choice" in response.content.decode()
    assert _open_invitations(cast.alpha, "boss@ex.test") == []
    assert mail.outbox == []


def test_the_service_also_refuses_an_owner_invitation_from_an_admin(cast):
    with tenant_context(cast.alpha), pytest.raises(ValidationError) as exc:
        services.invitation_create(
            organization=cast.alpha,
            email="boss@ex.test",
            role=Role.OWNER,
            invited_by=cast.adam,
        )
    assert exc.value.message_dict == {
        "role": ["Only an owner can invite another owner."]
    }


def test_an_owner_can_invite_an_owner(
    cast, login_as, django_capture_on_commit_callbacks
):
    _invite(
        login_as(cast.alice),
        django_capture_on_commit_callbacks,
        "boss@ex.test",
        Role.OWNER,
    )

    [invitation] = _open_invitations(cast.alpha, "boss@ex.test")
    assert invitation.role == Role.OWNER
    assert len(mail.outbox) == 1


def test_staff_cannot_invite(cast, login_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.sam).post(
            INVITE_URL, {"email": "pat@ex.test", "role": Role.STAFF}
        )

    assert response.status_code == 403
    assert _open_invitations(cast.alpha, "pat@ex.test") == []
    assert mail.outbox == []


# Accepting -----------------------------------------------------------------------


def test_a_new_person_creates_an_account_and_lands_on_the_dashboard(cast, client):
    link = _link(cast.alpha_invitation)

    page = client.get(link)
    assert page.status_code == 200
    assert "Join Alpha Accounting" in page.content.decode()

    response = client.post(
        link, {"name": "Nina New", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/o/alpha/"
    user = User.objects.get(email="new@alpha.test")
    assert user.name == "Nina New"
    assert user.check_password(PASSWORD)
    membership = _membership(cast.alpha, "new@alpha.test")
    assert membership.role == Role.STAFF
    assert membership.is_active
    assert client.session["_auth_user_id"] == str(user.pk)
    dashboard = client.get(response.url)
    assert dashboard.status_code == 200
    assert "You joined Alpha Accounting." in dashboard.content.decode()


def test_a_new_person_with_mismatched_passwords_gets_the_form_again(cast, client):
    response = client.post(
        _link(cast.alpha_invitation),
        {"name": "Nina New", "password1": PASSWORD, "password2": "something-else-1"},
    )

    assert response.status_code == 200
    assert not User.objects.filter(email="new@alpha.test").exists()
    assert _open_invitations(cast.alpha, "new@alpha.test") != []


def test_it_records_invitation_accepted_in_the_firm(cast, client):
    client.post(
        _link(cast.alpha_invitation),
        {"name": "Nina New", "password1": PASSWORD, "password2": PASSWORD},
    )

    [event] = _events(cast.alpha, AuditAction.INVITATION_ACCEPTED)
    assert event.actor.email == "new@alpha.test"
    assert event.target == "new@alpha.test"
    assert event.detail == {"role": "staff"}


def test_an_existing_user_must_sign_in_first_then_accepts_with_one_post(cast, client):
    with tenant_context(cast.alpha):
        invitation = Invitation.objects.create(
            organization=cast.alpha,
            email="oscar@beta.test",
            role=Role.MANAGER,
            invited_by=cast.alice,
            expires_at=timezone.now() + timedelta(days=7),
        )
    link = _link(invitation)

    page = client.get(link)
    assert "Sign in to accept" in page.content.decode()
    assert page.context["login_url"] == f"/accounts/login/?next={link}"
    # Posting without signing in changes nothing.
    client.post(link)
    assert _membership(cast.alpha, "oscar@beta.test") is None

    signed_in = client.post(
        page.context["login_url"],
        {"username": "oscar@beta.test", "password": PASSWORD},
    )
    assert signed_in.url == link
    assert "Accept invitation" in client.get(link).content.decode()
    response = client.post(link)

    assert response.status_code == 302
    assert response.url == "/o/alpha/"
    assert _membership(cast.alpha, "oscar@beta.test").role == Role.MANAGER
    assert client.get("/o/alpha/").status_code == 200


def test_the_link_works_only_once(cast, client):
    link = _link(cast.alpha_invitation)
    client.post(link, {"name": "Nina", "password1": PASSWORD, "password2": PASSWORD})
    client.logout()

    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        assert "This invitation has already been used." in response.content.decode()


def test_an_expired_invitation_is_gone(cast, client):
    _update(cast.alpha_invitation, expires_at=timezone.now() - timedelta(minutes=1))
    link = _link(cast.alpha_invitation)

    response = client.post(
        link, {"name": "Nina", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 410
    assert "This invitation has expired." in response.content.decode()
    assert not User.objects.filter(email="new@alpha.test").exists()


def test_a_revoked_invitation_is_gone(cast, client):
    _update(cast.alpha_invitation, revoked_at=timezone.now())

    response = client.get(_link(cast.alpha_invitation))

    assert response.status_code == 410
    assert "withdrawn by the firm" in response.content.decode()


def test_an_admin_revokes_an_open_invitation(cast, login_as):
    client = login_as(cast.adam)

    response = client.post(
        f"/o/alpha/invitations/{cast.alpha_invitation.uuid}/revoke/", follow=True
    )

    assert "Invitation for new@alpha.test withdrawn." in response.content.decode()
    assert _open_invitations(cast.alpha, "new@alpha.test") == []
    [event] = _events(cast.alpha, AuditAction.INVITATION_REVOKED)
    assert event.actor == cast.adam
    client.logout()
    assert client.get(_link(cast.alpha_invitation)).status_code == 410


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda token: "not-a-token", id="garbage"),
        pytest.param(lambda token: token[:-2] + "xx", id="bad-signature"),
        pytest.param(lambda token: "A" + token[1:], id="tampered-payload"),
    ],
)
def test_a_forged_or_tampered_link_is_not_found(cast, client, mangle):
    token = invitation_token(cast.alpha_invitation)

    response = client.get(reverse("accounts:invitation_accept", args=[mangle(token)]))

    assert response.status_code == 404


def test_a_signed_link_to_no_invitation_is_not_found(cast, client):
    ghost = Invitation(uuid=uuid.uuid4(), organization=cast.alpha)

    assert client.get(_link(ghost)).status_code == 404


def test_a_link_naming_another_firm_cannot_reach_this_firms_invitation(cast, client):
    # Signed, but pairing Alpha's invitation with Beta: Beta's context sees no such row.
    crossed = Invitation(uuid=cast.alpha_invitation.uuid, organization=cast.beta)

    assert client.get(_link(crossed)).status_code == 404


def test_a_signed_in_user_with_another_email_cannot_accept(cast, login_as):
    client = login_as(cast.sam)
    link = _link(cast.alpha_invitation)

    page = client.get(link)
    response = client.post(
        link, {"name": "Sam", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert "You are signed in as sam@alpha.test" in page.content.decode()
    assert "You are signed in as sam@alpha.test" in response.content.decode()
    assert _membership(cast.alpha, "new@alpha.test") is None
    assert [i.pk for i in _open_invitations(cast.alpha, "new@alpha.test")] == [
        cast.alpha_invitation.pk
    ]
    assert _events(cast.alpha, AuditAction.INVITATION_ACCEPTED) == []


def test_accepting_reactivates_a_former_member_with_the_invited_role(cast, login_as):
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=cast.sam).update(is_active=False)
        invitation = Invitation.objects.create(
            organization=cast.alpha,
            email="sam@alpha.test",
            role=Role.MANAGER,
            expires_at=timezone.now() + timedelta(days=7),
        )
    client = login_as(cast.sam)

    response = client.post(_link(invitation))

    assert response.url == "/o/alpha/"
    membership = _membership(cast.alpha, "sam@alpha.test")
    assert membership.is_active
    assert membership.role == Role.MANAGER
