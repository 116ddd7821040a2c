"""`manage.py invite_member` works inside the one firm it names."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Invitation


def test_it_invites_into_the_named_firm_only(
    cast, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "invite_member", firm="beta", email="New.Owner@Beta.test", role="owner"
        )
    assert (
        "Invited new.owner@beta.test to Beta Bookkeeping as Owner"
        in capsys.readouterr().out
    )
    with tenant_context(cast.beta):
        invitation = Invitation.objects.get(email="new.owner@beta.test")
    assert invitation.invited_by is None
    with tenant_context(cast.alpha):
        assert not Invitation.objects.filter(email="new.owner@beta.test").exists()
    assert mail.outbox[-1].to == ["new.owner@beta.test"]


def test_it_refuses_an_unknown_firm(cast):
    with pytest.raises(CommandError, match="No firm"):
        call_command("invite_member", firm="nope", email="x@y.test")


def test_a_staff_inviter_cannot_invite_an_owner(cast):
    with pytest.raises(CommandError, match="Only an owner"):
        call_command(
            "invite_member",
            firm="alpha",
            email="x@y.test",
            role="owner",
            by="adam@alpha.test",
        )
