"""A person signs in with a real browser and switches firms.

Chromium runs the page as a visitor would: the Content-Security-Policy, the
<details> menus and the redirects all really happen. Any console error (a CSP
violation shows up as one) fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def demo_two_firms(demo):
    """The demo data, with the demo owner also a member of Other Firm."""
    with platform_bypass():
        Membership.objects.create(
            organization=Organization.objects.get(slug="other"),
            user=User.objects.get(email="owner@demo.test"),
            role=Role.STAFF,
        )


def test_an_owner_signs_in_and_switches_to_another_firm(
    demo_two_firms, page, console_errors
):
    page.goto("/accounts/login/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "login.png")
    page.get_by_label("Email").fill("owner@demo.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/o/demo/")
    assert page.locator(".firm-switcher .firm-name").inner_text() == "Demo CPA"
    assert page.get_by_role("heading", name="Good to see you, Olivia").is_visible()
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    switcher = page.get_by_test_id("firm-switcher")
    switcher.locator("summary").click()
    other = switcher.get_by_role("link", name="Other Firm")
    assert other.is_visible()
    page.screenshot(path=SCREENSHOTS / "firm-switcher.png")
    other.click()

    page.wait_for_url("**/o/other/")
    assert page.locator(".firm-switcher .firm-name").inner_text() == "Other Firm"
    assert page.get_by_text("Other Firm · you are staff").is_visible()
    assert console_errors == []
