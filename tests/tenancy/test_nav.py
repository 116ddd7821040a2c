"""The side navigation: the current entry, the admin-only settings, and a firm
switcher listing only the person's own firms."""

from __future__ import annotations

import re

import pytest

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Role


def _nav(html: str) -> str:
    return html.split('<nav class="sidenav"')[1].split("</nav>")[0]


def _current(html: str) -> list[str]:
    return re.findall(r'class="(?:sub )?active"[^>]*>([^<]+)</a>', _nav(html))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/o/alpha/", ["Dashboard"]),
        ("/o/alpha/clients/", ["Clients"]),
        ("/o/alpha/engagements/", ["Engagements"]),
        ("/o/alpha/documents/requests/", ["Requests"]),
        ("/o/alpha/documents/retention/", ["Retention"]),
        ("/o/alpha/work/", ["My work"]),
        ("/o/alpha/work/board/", ["Board"]),
        ("/o/alpha/workflows/", ["Workflows"]),
        ("/o/alpha/workflows/templates/", ["Templates"]),
        ("/o/alpha/members/", ["Members"]),
        ("/o/alpha/jobs/failed/", ["Failed jobs"]),
        ("/o/alpha/audit/", ["Audit log"]),
    ],
)
def test_the_current_page_is_marked(cast, login_as, path, expected):
    response = login_as(cast.alice).get(path)

    assert response.status_code == 200
    assert _current(response.content.decode()) == expected
    assert 'aria-current="page"' in _nav(response.content.decode())


def test_settings_for_admins_only(cast, login_as):
    owner = _nav(login_as(cast.alice).get("/o/alpha/").content.decode())
    staff = _nav(login_as(cast.sam).get("/o/alpha/").content.decode())

    for label in ("Firm settings", "Retention", "Failed jobs", "Audit log"):
        assert f">{label}</a>" in owner
        assert f">{label}</a>" not in staff
    assert ">Members</a>" in staff
    assert 'href="/o/alpha/clients/"' in staff


def test_the_switcher_lists_only_the_persons_active_firms(cast, login_as):
    with platform_bypass():
        Membership.objects.create(
            organization=cast.beta, user=cast.sam, role=Role.STAFF
        )
    web = login_as(cast.sam)

    switcher = (
        web.get("/o/alpha/").content.decode().split('data-testid="firm-switcher"')[1]
    )
    switcher = switcher.split("</details>")[0]
    assert "Alpha Accounting" in switcher and "Beta Bookkeeping" in switcher

    with platform_bypass():
        Membership.objects.filter(organization=cast.beta, user=cast.sam).update(
            is_active=False
        )
    switcher = (
        web.get("/o/alpha/").content.decode().split('data-testid="firm-switcher"')[1]
    )
    assert "Beta Bookkeeping" not in switcher.split("</details>")[0]
    assert web.get("/o/beta/").status_code == 404
