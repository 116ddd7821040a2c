"""The demo portal contact's pages on a phone (390 x 844): signed in with the
password, every page of the portal's navigation fits the screen, the firm's
stylesheet is applied, and nothing breaks the page's security policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.demo import PORTAL_EMAIL, PORTAL_PASSWORD
from tests.browser.axe import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, console_errors):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda m: console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield page
    context.close()


def _fits(page) -> None:
    scroll, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, f"sideways scroll on {page.url}: {scroll} > {inner}"
    # WCAG 2.1 AA (axe-core) on every page the contact sees.
    found = axe_violations(page)
    assert found == [], (page.url, found)


def test_the_portal_fits_a_phone(demo, phone, console_errors):
    phone.goto("/p/demo/")
    _fits(phone)
    phone.get_by_label("Email address").fill(PORTAL_EMAIL)
    phone.get_by_label("Password").fill(PORTAL_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/p/demo/home/")
    expect(phone.get_by_role("heading", name="Hello Pat")).to_be_visible()
    brand = phone.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--brand-link')"
    )
    assert brand.strip().startswith("#")
    _fits(phone)
    visited = []
    for label in ["Documents", "Messages", "Letters", "Home"]:
        phone.get_by_role("navigation", name="Portal").get_by_role(
            "link", name=label
        ).click()
        phone.wait_for_load_state()
        visited.append(phone.url)
        _fits(phone)
    # A request, the letter to sign and the account page.
    phone.get_by_role("link", name="2025 tax organizer").first.click()
    phone.wait_for_load_state()
    _fits(phone)
    phone.goto("/p/demo/account/")
    _fits(phone)
    phone.goto("/p/demo/letters/")
    phone.get_by_role("link", name="Read and sign").first.click()
    phone.wait_for_load_state()
    _fits(phone)
    phone.goto("/p/demo/messages/")
    phone.get_by_role("link").filter(has_text="David Chen").first.click()
    phone.wait_for_load_state()
    _fits(phone)
    phone.goto("/p/demo/documents/")
    phone.locator("main a[href*='/documents/']").first.click()
    phone.wait_for_load_state()
    _fits(phone)
    assert console_errors == [], console_errors
    assert len(set(visited)) == 4
