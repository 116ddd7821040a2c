"""The firm dashboard."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Invitation


def test_it_counts_members_and_only_invitations_still_open(cast, client):
    with tenant_context(cast.alpha):
        Invitation.objects.create(
            organization=cast.alpha,
            email="late@alpha.test",
            expires_at=timezone.now() - timedelta(days=1),
        )
    client.force_login(cast.sam)
    response = client.get("/o/alpha/")
    assert response.status_code == 200
    assert response.context["member_count"] == 5
    assert response.context["open_invitations"] == 1


def test_security_activity_is_shown_to_admins_only(cast, client):
    client.force_login(cast.sam)
    assert client.get("/o/alpha/").context["recent_events"] == []
    client.force_login(cast.adam)
    response = client.get("/o/alpha/")
    assert b"Recent security activity" in response.content
