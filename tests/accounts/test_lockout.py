from __future__ import annotations

from collections import Counter
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

WRONG = "not-the-password"


def _fail(sign_in, email: str, times: int, **extra):
    return [sign_in(email, WRONG, **extra) for _ in range(times)]


def test_the_limit_is_five():
    assert settings.AXES_FAILURE_LIMIT == 5


def test_it_locks_out_after_five_failures(cast, client, sign_in):
    responses = _fail(sign_in, "alice@alpha.test", settings.AXES_FAILURE_LIMIT)

    assert [r.status_code for r in responses[:-1]] == [200] * 4
    locked = responses[-1]
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert reverse("accounts:password_reset").encode() in locked.content


def test_a_locked_out_email_is_refused_even_with_the_right_password(
    cast, client, sign_in
):
    _fail(sign_in, "alice@alpha.test", 5)

    response = sign_in("alice@alpha.test", PASSWORD)

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_the_email_counts_whatever_its_case(cast, client, sign_in):
    for email in ["alice@alpha.test", "ALICE@alpha.test", "Alice@Alpha.Test"]:
        sign_in(email, WRONG)
    _fail(sign_in, "alice@ALPHA.test", 2)

    assert sign_in("alice@alpha.test", PASSWORD).status_code == 429


def test_another_email_from_the_same_address_is_not_locked(cast, client, sign_in):
    _fail(sign_in, "alice@alpha.test", 5)

    response = sign_in("sam@alpha.test", PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.sam.pk


def test_the_same_email_from_another_address_is_not_locked(cast, client, sign_in):
    _fail(sign_in, "alice@alpha.test", 5)

    response = sign_in("alice@alpha.test", PASSWORD, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.alice.pk


def test_a_success_resets_the_count(cast, client, sign_in):
    _fail(sign_in, "alice@alpha.test", 4)
    assert sign_in("alice@alpha.test", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))

    responses = _fail(sign_in, "alice@alpha.test", 4)

    assert [r.status_code for r in responses] == [200] * 4
    assert sign_in("alice@alpha.test", PASSWORD).status_code == 302


def test_failures_are_recorded_in_the_persons_firm(cast, sign_in, audit_actions):
    _fail(sign_in, "ALICE@alpha.test", 3)

    assert audit_actions(cast.alpha, target_user=cast.alice) == ["login_failure"] * 3
    assert (
        audit_actions(cast.alpha, actor_email="alice@alpha.test")[-3:]
        == ["login_failure"] * 3
    )
    assert audit_actions(cast.beta, target_user=cast.alice) == []


def test_the_lockout_is_recorded_in_the_persons_firm(cast, sign_in, audit_actions):
    _fail(sign_in, "alice@alpha.test", 5)

    actions = audit_actions(cast.alpha, target_user=cast.alice)
    assert Counter(actions) == {"login_failure": 5, "locked_out": 1}

    # Each attempt refused while locked is recorded too.
    sign_in("alice@alpha.test", PASSWORD)

    actions = audit_actions(cast.alpha, target_user=cast.alice)
    assert Counter(actions) == {"login_failure": 6, "locked_out": 2}


def test_the_address_limit_is_fifty():
    assert settings.SIGN_IN_ADDRESS_FAILURE_LIMIT == 50


def test_spraying_one_password_over_many_accounts_locks_the_address(
    cast, client, sign_in, settings, audit_actions
):
    """No email reaches its own limit; the address reaches its own."""
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 12
    emails = [f"person{n}@alpha.test" for n in range(9)] + [
        "alice@alpha.test",
        "sam@alpha.test",
        "mia@alpha.test",
    ]

    answers = [sign_in(email, "Spring2026!").status_code for email in emails]

    assert answers == [200] * 11 + [429]
    # Now every account waits from this address, with its right password too.
    response = sign_in("adam@alpha.test", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session
    assert "locked_out" in audit_actions(cast.alpha, target_user=cast.mia)


def test_another_address_is_not_locked_by_a_spray(cast, client, sign_in, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 10
    for n in range(10):
        sign_in(f"person{n}@alpha.test", "Spring2026!")

    response = sign_in("adam@alpha.test", PASSWORD, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.adam.pk


def test_a_success_does_not_reset_the_addresss_count(cast, client, sign_in, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(7):
        sign_in(f"person{n}@alpha.test", "Spring2026!")
    assert sign_in("adam@alpha.test", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))

    assert sign_in("person9@alpha.test", "Spring2026!").status_code == 429


def test_the_addresss_failures_age_out_with_the_cool_off(
    cast, client, sign_in, settings
):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 5
    for n in range(5):
        sign_in(f"person{n}@alpha.test", "Spring2026!")
    assert sign_in("adam@alpha.test", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    )

    assert sign_in("adam@alpha.test", PASSWORD).status_code == 302
