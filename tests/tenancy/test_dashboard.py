"""The firm dashboard."""

from __future__ import annotations

import re
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


def test_your_work_shows_the_buttons_each_app_declares(cast, login_as):
    html = login_as(cast.sam).get("/o/alpha/").content.decode()

    panel = html.split("<h2>Your work</h2>")[1].split("</div>")[0]
    assert re.findall(r'<a class="([^"]+)" href="([^"]+)">([^<]+)</a>', panel) == [
        ("btn btn-primary", "/o/alpha/work/", "My work"),
        ("btn", "/o/alpha/work/board/", "Board"),
        ("btn", "/o/alpha/clients/", "Clients"),
        ("btn", "/o/alpha/engagements/?mine=1", "My engagements"),
        ("btn", "/o/alpha/engagements/?status=overdue", "Overdue engagements"),
        ("btn", "/o/alpha/documents/review/", "Documents to review"),
        ("btn", "/o/alpha/documents/requests/", "Document requests"),
    ]
