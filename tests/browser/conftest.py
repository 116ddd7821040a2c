"""Fixtures for the browser tests: Debian's Chromium, driven by Playwright.

Playwright's sync API runs an event loop in the test thread, and Django refuses
ORM calls from a thread with a running loop unless told it is safe. Here it is:
the ORM calls happen in the test's own setup, never inside the loop's callbacks.
The variable must be set before Django first touches the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logs or throws; Chromium reports CSP violations here too."""
    return []


@pytest.fixture
def page(browser, live_server, console_errors):
    """A fresh browser tab on the live server; its console errors are collected
    in `console_errors` (also `page.console_errors`)."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = console_errors
    page.on(
        "console",
        lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server, console_errors):
    """A tab on a phone (390 x 844, touch, a phone's user agent), its console
    errors collected like `page`'s."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db, settings):
    """The `make run` demo data (Demo CPA, its people, clients and work)."""
    from io import StringIO

    from django.core.management import call_command

    debug, settings.DEBUG = settings.DEBUG, True  # seed_demo runs only in DEBUG
    call_command("seed_demo", stdout=StringIO())
    settings.DEBUG = debug


def sign_in(page, email: str, password: str, *, lands_on: str = "**/o/*/") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands_on)
