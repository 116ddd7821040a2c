"""The members page: who belongs to the firm, their roles, deactivation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Invitation, Membership, Role
from tests.conftest import make_user


def _role_url(membership: Membership) -> str:
    return f"/o/alpha/members/{membership.uuid}/role/"


def _active_url(membership: Membership) -> str:
    return f"/o/alpha/members/{membership.uuid}/active/"


def _reload(membership: Membership) -> Membership:
    with tenant_context(membership.organization):
        return Membership.objects.get(pk=membership.pk)


def _events(cast, action: AuditAction) -> list[AuditEvent]:
    with tenant_context(cast.alpha):
        return list(AuditEvent.objects.filter(action=action))


def _make_owner(cast, user: User) -> None:
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=user).update(role=Role.OWNER)


# Roles ---------------------------------------------------------------------------


def test_the_members_page_lists_the_firm_and_only_the_firm(cast, login_as):
    response = login_as(cast.rita).get("/o/alpha/members/")

    html = response.content.decode()
    assert response.status_code == 200
    for email in ("alice@alpha.test", "adam@alpha.test", "sam@alpha.test"):
        assert email in html
    assert "new@alpha.test" in html  # the open invitation
    assert "oscar@beta.test" not in html
    assert "new@beta.test" not in html
    # Read-only members see the list but not the controls.
    assert "Send invitation" not in html
    assert "/role/" not in html


def test_an_owner_changes_a_role(cast, login_as):
    sam = cast.membership(cast.sam, cast.alpha)

    response = login_as(cast.alice).post(
        _role_url(sam), {"role": Role.MANAGER}, follow=True
    )

    assert "Sam Staff is now Manager." in response.content.decode()
    assert _reload(sam).role == Role.MANAGER
    [event] = _events(cast, AuditAction.ROLE_CHANGED)
    assert event.actor_id == cast.alice.pk
    assert event.target_user_id == cast.sam.pk
    assert event.detail == {"from": "staff", "to": "manager"}


def test_an_admin_changes_a_non_owners_role(cast, login_as):
    rita = cast.membership(cast.rita, cast.alpha)

    login_as(cast.adam).post(_role_url(rita), {"role": Role.STAFF})

    assert _reload(rita).role == Role.STAFF


def test_an_owner_makes_someone_an_owner(cast, login_as):
    adam = cast.membership(cast.adam, cast.alpha)

    login_as(cast.alice).post(_role_url(adam), {"role": Role.OWNER})

    assert _reload(adam).role == Role.OWNER


def test_an_unknown_role_changes_nothing(cast, login_as):
    sam = cast.membership(cast.sam, cast.alpha)

    response = login_as(cast.alice).post(
        _role_url(sam), {"role": "emperor"}, follow=True
    )

    assert "Select a valid choice" in response.content.decode()
    assert _reload(sam).role == Role.STAFF


def test_the_last_owner_cannot_demote_themself(cast, login_as):
    alice = cast.membership(cast.alice, cast.alpha)

    response = login_as(cast.alice).post(
        _role_url(alice), {"role": Role.ADMIN}, follow=True
    )

    assert "A firm needs at least one owner" in response.content.decode()
    assert _reload(alice).role == Role.OWNER
    assert _events(cast, AuditAction.ROLE_CHANGED) == []


def test_the_last_owner_cannot_deactivate_themself(cast, login_as):
    alice = cast.membership(cast.alice, cast.alpha)

    response = login_as(cast.alice).post(
        _active_url(alice), {"active": "0"}, follow=True
    )

    assert "The last owner cannot be deactivated." in response.content.decode()
    assert _reload(alice).is_active
    assert _events(cast, AuditAction.MEMBER_DEACTIVATED) == []


def test_a_deactivated_owner_does_not_count_as_another_owner(cast, login_as):
    _make_owner(cast, cast.adam)
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=cast.adam).update(is_active=False)
    alice = cast.membership(cast.alice, cast.alpha)

    login_as(cast.alice).post(_role_url(alice), {"role": Role.ADMIN})

    assert _reload(alice).role == Role.OWNER


def test_an_owner_steps_down_once_there_is_another_owner(cast, login_as):
    _make_owner(cast, cast.adam)
    alice = cast.membership(cast.alice, cast.alpha)

    client = login_as(cast.alice)
    client.post(_role_url(alice), {"role": Role.ADMIN})

    assert _reload(alice).role == Role.ADMIN
    # And adam, now the last owner, is protected in turn.
    adam = cast.membership(cast.adam, cast.alpha)
    login_as(cast.adam).post(_active_url(adam), {"active": "0"})
    assert _reload(adam).is_active


def test_an_admin_cannot_change_an_owner(cast, login_as):
    _make_owner(cast, cast.sam)  # a second owner, so only the admin rule applies
    alice = cast.membership(cast.alice, cast.alpha)
    client = login_as(cast.adam)

    demote = client.post(_role_url(alice), {"role": Role.STAFF}, follow=True)
    deactivate = client.post(_active_url(alice), {"active": "0"}, follow=True)

    for response in (demote, deactivate):
        assert "Only an owner can change an owner" in response.content.decode()
    alice = _reload(alice)
    assert alice.role == Role.OWNER
    assert alice.is_active


def test_an_admin_cannot_make_someone_an_owner(cast, login_as):
    sam = cast.membership(cast.sam, cast.alpha)
    adam = cast.membership(cast.adam, cast.alpha)
    client = login_as(cast.adam)

    client.post(_role_url(sam), {"role": Role.OWNER})
    client.post(_role_url(adam), {"role": Role.OWNER})

    assert _reload(sam).role == Role.STAFF
    assert _reload(adam).role == Role.ADMIN


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_members_below_admin_cannot_manage_members(cast, login_as, role):
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=cast.sam).update(role=role)
    rita = cast.membership(cast.rita, cast.alpha)
    client = login_as(cast.sam)

    assert client.post(_role_url(rita), {"role": Role.ADMIN}).status_code == 403
    assert client.post(_active_url(rita), {"active": "0"}).status_code == 403
    rita = _reload(rita)
    assert rita.role == Role.READONLY
    assert rita.is_active


# Deactivation --------------------------------------------------------------------


def test_an_admin_deactivates_and_reactivates_a_member(cast, login_as):
    sam = cast.membership(cast.sam, cast.alpha)
    client = login_as(cast.adam)

    off = client.post(_active_url(sam), {"active": "0"}, follow=True)
    assert "Sam Staff deactivated." in off.content.decode()
    assert not _reload(sam).is_active

    on = client.post(_active_url(sam), {"active": "1"}, follow=True)
    assert "Sam Staff reactivated." in on.content.decode()
    assert _reload(sam).is_active

    [deactivated] = _events(cast, AuditAction.MEMBER_DEACTIVATED)
    assert deactivated.actor_id == cast.adam.pk
    assert deactivated.target_user_id == cast.sam.pk
    assert len(_events(cast, AuditAction.MEMBER_REACTIVATED)) == 1


def test_a_deactivated_member_loses_the_firm_at_once(cast, login_as):
    sam_client = Client()
    sam_client.force_login(cast.sam)
    assert sam_client.get("/o/alpha/").status_code == 200

    login_as(cast.adam).post(
        _active_url(cast.membership(cast.sam, cast.alpha)), {"active": "0"}
    )

    assert sam_client.get("/o/alpha/").status_code == 404
    assert sam_client.get("/o/alpha/members/").status_code == 404
    assert sam_client.post("/o/alpha/members/invite/").status_code == 404


# Query count -----------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 26])
def test_the_members_page_query_count_does_not_grow(
    cast, login_as, django_assert_num_queries, extra
):
    with tenant_context(cast.alpha):
        for n in range(extra):
            user = make_user(f"member{n}@alpha.test", f"Member {n}")
            Membership.objects.create(
                organization=cast.alpha, user=user, role=Role.STAFF, is_active=n % 5 > 0
            )
            Invitation.objects.create(
                organization=cast.alpha,
                email=f"invitee{n}@ex.test",
                invited_by=cast.alice,
                expires_at=timezone.now() + timedelta(days=n % 3 - 1),
            )
    client = login_as(cast.alice)
    client.get("/o/alpha/members/")  # settles the session's first-visit writes

    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's firms
    # (the membership and the switcher), 5 members with their users, 6 open invitations
    # with their inviters, 7 reset the RLS context.
    with django_assert_num_queries(7):
        response = client.get("/o/alpha/members/")

    assert response.status_code == 200
    assert response.content.decode().count("<tr") == 1 + 5 + extra + 1 + 1 + extra
