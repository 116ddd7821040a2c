"""The demo portal contact's pages on a phone (390 x 844): signed in with the
password, every page of the portal's navigation fits the screen, the firm's
stylesheet is applied, and nothing breaks the page's security policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.demo import PORTAL_EMAIL, PORTAL_PASSWORD
from tests.browser.axe import assert_fits_and_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_portal_fits_a_phone(demo, phone, console_errors):
    phone.goto("/p/demo/")
    assert_fits_and_accessible(phone)
    phone.get_by_label("Email address").fill(PORTAL_EMAIL)
    phone.get_by_label("Password").fill(PORTAL_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/p/demo/home/")
    expect(phone.get_by_role("heading", name="Hello Pat")).to_be_visible()
    brand = phone.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--brand-link')"
    )
    assert brand.strip().startswith("#")
    assert_fits_and_accessible(phone)
    visited = []
    for label in ["Documents", "Messages", "Letters", "Home"]:
        phone.get_by_role("navigation", name="Portal").get_by_role(
            "link", name=label
        ).click()
        phone.wait_for_load_state()
        visited.append(phone.url)
        assert_fits_and_accessible(phone)
    # A request, the letter to sign and the account page.
    phone.get_by_role("link", name="2025 tax organizer").first.click()
    phone.wait_for_load_state()
    assert_fits_and_accessible(phone)
    phone.goto("/p/demo/account/")
    assert_fits_and_accessible(phone)
    phone.goto("/p/demo/letters/")
    phone.get_by_role("link", name="Read and sign").first.click()
    phone.wait_for_load_state()
    assert_fits_and_accessible(phone)
    phone.goto("/p/demo/messages/")
    phone.get_by_role("link").filter(has_text="David Chen").first.click()
    phone.wait_for_load_state()
    assert_fits_and_accessible(phone)
    phone.goto("/p/demo/documents/")
    phone.locator("main a[href*='/documents/']").first.click()
    phone.wait_for_load_state()
    assert_fits_and_accessible(phone)
    assert console_errors == [], console_errors
    assert len(set(visited)) == 4
