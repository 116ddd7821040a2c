"""The plan's member limit (advisoros.tenancy.plans): invitations, joining and
reactivation refuse with the plan's message, never a 500; with the platform's
billing off nothing is limited at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from advisoros.accounts.models import User
from advisoros.tenancy import services
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import (
    FirmSubscription,
    Invitation,
    Membership,
    Plan,
    Role,
    SubscriptionStatus,
)
from advisoros.tenancy.plans import MEMBERS, plan_limit_check
from advisoros.tenancy.tokens import invitation_token
from tests.conftest import PASSWORD
from tests.factories import make_member, make_plan, make_subscription

INVITE_URL = "/o/alpha/members/invite/"
FULL = "Your plan (Starter) allows 6 members; upgrade on the Subscription page."


@pytest.fixture
def six_seats(alpha_on_starter, starter):
    """Alpha's plan holds exactly what it has: 5 members and 1 open invitation."""
    starter.max_members = 6
    starter.save()
    return starter


def _invitations(org, email: str) -> list[Invitation]:
    with tenant_context(org):
        return list(Invitation.objects.filter(email=email))


def _flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_invitation_beyond_the_plans_seats_is_refused_with_the_plans_message(
    cast, login_as, six_seats, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.alice).post(
            INVITE_URL, {"email": "one.more@alpha.test", "role": "staff"}, follow=True
        )

    assert response.status_code == 200
    assert _flash(response) == [FULL]
    assert _invitations(cast.alpha, "one.more@alpha.test") == []


def test_sending_an_open_invitation_again_takes_no_new_seat(
    cast, login_as, six_seats, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.alice).post(
            INVITE_URL, {"email": "new@alpha.test", "role": "manager"}, follow=True
        )

    assert _flash(response) == ["Invitation sent to new@alpha.test."]
    [invitation] = _invitations(cast.alpha, "new@alpha.test")
    assert invitation.role == Role.MANAGER


def test_a_withdrawn_invitation_frees_its_seat(cast, six_seats):
    with tenant_context(cast.alpha):
        services.invitation_revoke(invitation=cast.alpha_invitation, by=cast.alice)
        invitation = services.invitation_create(
            organization=cast.alpha,
            email="someone.else@alpha.test",
            role=Role.STAFF,
            invited_by=cast.alice,
        )

    assert invitation.pk is not None


def test_an_invitation_accepted_within_the_plan_joins(cast, client, six_seats):
    response = client.post(
        reverse(
            "accounts:invitation_accept", args=[invitation_token(cast.alpha_invitation)]
        ),
        {"name": "Nina New", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == "/o/alpha/"


def test_joining_after_the_plan_shrank_is_refused_and_nothing_is_made(
    cast, client, six_seats
):
    six_seats.max_members = 5
    six_seats.save()
    link = reverse(
        "accounts:invitation_accept", args=[invitation_token(cast.alpha_invitation)]
    )

    response = client.post(
        link, {"name": "Nina New", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 409
    assert (
        "Alpha Accounting has no free seat on its AdvisorOS plan right now"
        in response.content.decode()
    )
    # All or nothing: no account, no membership; the link still works later.
    assert not User.objects.filter(email="new@alpha.test").exists()
    assert cast.alpha_invitation.accepted_at is None
    six_seats.max_members = 6
    six_seats.save()
    assert (
        client.post(
            link, {"name": "Nina New", "password1": PASSWORD, "password2": PASSWORD}
        ).url
        == "/o/alpha/"
    )


def test_reactivating_a_member_beyond_the_plan_is_refused(cast, login_as, six_seats):
    former = make_member(cast.alpha, "Fred Former", Role.STAFF, is_active=False)
    membership = cast.membership(former, cast.alpha)

    response = login_as(cast.alice).post(
        f"/o/alpha/members/{membership.uuid}/active/", {"active": "1"}, follow=True
    )

    assert response.status_code == 200
    assert _flash(response) == [FULL]
    assert not cast.membership(former, cast.alpha).is_active


def test_a_deactivated_member_frees_a_seat(cast, login_as, six_seats):
    sam = cast.membership(cast.sam, cast.alpha)
    client = login_as(cast.alice)
    client.post(f"/o/alpha/members/{sam.uuid}/active/", {"active": "0"})

    response = client.post(
        INVITE_URL, {"email": "one.more@alpha.test", "role": "staff"}, follow=True
    )

    assert _flash(response)[-1] == "Invitation sent to one.more@alpha.test."


def test_an_unlimited_plan_never_refuses(cast, alpha_on_starter, starter):
    starter.max_members = None
    starter.save()

    with tenant_context(cast.alpha):
        plan_limit_check(cast.alpha, MEMBERS, adding=1000)


def test_nothing_is_limited_while_the_platforms_billing_is_off(cast, starter):
    starter.max_members = 1
    starter.save()
    make_subscription(cast.alpha, starter, status=SubscriptionStatus.CANCELED)

    with tenant_context(cast.alpha):
        plan_limit_check(cast.alpha, MEMBERS, adding=1000)
        invitation = services.invitation_create(
            organization=cast.alpha,
            email="one.more@alpha.test",
            role=Role.STAFF,
            invited_by=cast.alice,
        )

    assert invitation.pk is not None


def test_a_firm_made_before_the_platform_was_on_starts_its_trial_when_first_checked(
    cast, platform_billing, starter
):
    starter.max_members = 6
    starter.save()

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as refused:
        plan_limit_check(cast.alpha, MEMBERS)

    assert refused.value.code == "plan_limit"
    with tenant_context(cast.alpha):
        subscription = FirmSubscription.objects.get(organization=cast.alpha)
    assert subscription.plan == starter
    assert subscription.status == SubscriptionStatus.TRIALING


def test_with_no_default_plan_a_firm_has_no_limits(cast, platform_billing):
    Plan.objects.update(is_default=False)
    make_plan("tiny", "Tiny", max_members=1, is_default=False)

    with tenant_context(cast.alpha):
        plan_limit_check(cast.alpha, MEMBERS, adding=100)
        assert not FirmSubscription.objects.filter(organization=cast.alpha).exists()


def test_a_new_firm_starts_the_default_plans_trial(cast, platform_billing, starter):
    organization = services.organization_create(
        name="Gamma Group", slug="gamma", owner=cast.alice
    )

    with tenant_context(organization):
        subscription = FirmSubscription.objects.get(organization=organization)
        assert Membership.objects.filter(organization=organization).count() == 1
    assert subscription.plan == starter
    assert subscription.status == SubscriptionStatus.TRIALING
    trial = subscription.trial_ends_at - subscription.created_at
    assert round(trial.total_seconds() / 86400) == 14


def test_a_new_firm_has_no_subscription_while_billing_is_off(cast, starter):
    organization = services.organization_create(
        name="Gamma Group", slug="gamma", owner=cast.alice
    )

    with tenant_context(organization):
        assert not FirmSubscription.objects.filter(organization=organization).exists()
