"""Staff pages on a phone (390 x 844, an iPhone 14): nothing scrolls sideways.

Each page must fit its viewport (the document's scroll width equals the window's
width); wide tables scroll inside their own box with the column that names the row
kept in view, and the side navigation becomes a menu behind the top bar's button.
The demo firm gets a long name, a client with a very long unbroken name and the
manager's tasks, so the lists have rows and the long strings are really there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import RecurringInvoice
from clients.models import Client, Engagement
from clients.services.clients import client_create
from documents.models import Document, DocumentRequest
from tests.browser.conftest import sign_in
from tests.browser.staff_pages import CLIENT_TABS, PAGES
from tests.conftest import PASSWORD
from workflows.models import Task, WorkflowExecution, WorkflowTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_FIRM = "Harrison, Whitfield & Okonkwo Certified Public Accountants LLP"
LONG_CLIENT = "Wolfeschlegelsteinhausenbergerdorff Family Trust"


@pytest.fixture
def busy_firm(demo) -> dict[str, str]:
    """The demo firm with long names and the owner's own tasks; returns the paths of
    one object of each kind (under /o/demo/) for the detail pages."""
    with platform_bypass():
        Organization.objects.filter(slug="demo").update(name=LONG_FIRM)
    firm = Organization.objects.get(slug="demo")
    owner = User.objects.get(email="owner@demo.test")
    with tenant_context(firm):
        long_one = client_create(
            organization=firm,
            data={
                "display_name": LONG_CLIENT,
                "legal_name": f"The {LONG_CLIENT} under agreement of 2011",
                "tax_id": "98-7654321",
            },
        )
        Task.objects.filter(assignee__email="manager@demo.test").update(assignee=owner)
        return {
            "client": f"clients/{long_one.uuid}/",
            "busy client": f"clients/{Client.objects.get(client_code='APEX').uuid}/",
            "engagement": f"engagements/{Engagement.objects.first().uuid}/",
            "document": f"documents/{Document.objects.first().uuid}/",
            "request": f"documents/requests/{DocumentRequest.objects.first().uuid}/",
            "workflow": f"workflows/{WorkflowExecution.objects.first().uuid}/",
            "template": f"workflows/templates/{WorkflowTemplate.objects.first().uuid}/",
            "task": f"tasks/{Task.objects.filter(assignee=owner).first().uuid}/",
            "recurring": f"billing/recurring/{RecurringInvoice.objects.first().uuid}/",
            **_ledger_pages(),
        }


def _ledger_pages() -> dict[str, str]:
    """The demo ledger's pages (reports/demo.py): its client's ledger and statements."""
    from reports.models import TrialBalance

    client = TrialBalance.objects.select_related("client").first().client
    ledger = f"reports/clients/{client.uuid}/"
    return {
        "ledger": ledger,
        **{
            page: f"{ledger}{page}/"
            for page in (
                "profit-and-loss",
                "balance-sheet",
                "cash-flow",
                "trial-balance",
            )
        },
    }


def on_a_phone(page, email: str, password: str, lands_on: str):
    page.set_viewport_size(PHONE)
    sign_in(page, email, password, lands_on=lands_on)
    return page


def overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_staff_page_fits_a_phone_screen(busy_firm, page, console_errors):
    phone = on_a_phone(page, "owner@demo.test", "demo-pass-2026", "**/o/demo/")
    paths = [(p, rows) for p, rows in PAGES] + [(p, False) for p in busy_firm.values()]
    paths += [(f"{busy_firm['busy client']}?tab={t}", False) for t in CLIENT_TABS]
    too_wide = {}

    for path, rows in paths:
        response = phone.goto(f"/o/demo/{path}")
        assert response.status == 200, path
        phone.wait_for_load_state("networkidle")  # htmx fills some parts in
        if rows:
            assert phone.locator("table tbody tr").count() > 0, path
        if overflow(phone):
            too_wide[path] = overflow(phone)

    assert too_wide == {}
    assert phone.evaluate("window.innerWidth") == PHONE["width"]
    assert console_errors == []
    # The long strings were really there to stretch the pages.
    phone.goto(f"/o/demo/{busy_firm['client']}")
    expect(phone.get_by_role("heading", name=LONG_CLIENT)).to_be_visible()
    expect(phone.locator(".firm-switcher .firm-name")).to_have_text(LONG_FIRM)


def test_a_wide_table_scrolls_in_its_box_and_keeps_the_name_column(cast, page):
    with tenant_context(cast.alpha):
        client_create(
            organization=cast.alpha,
            data={"display_name": LONG_CLIENT, "tax_id": "98-7654321"},
        )
    phone = on_a_phone(page, cast.alice.email, PASSWORD, "**/o/alpha/")
    phone.goto("/o/alpha/clients/")
    box = phone.get_by_test_id("client-rows").locator("xpath=..")
    name = box.get_by_role("link", name=LONG_CLIENT)
    tax_id = box.get_by_text("•••-••-4321")
    expect(tax_id).not_to_be_in_viewport()

    box.evaluate("box => box.scrollTo(box.scrollWidth, 0)")

    expect(tax_id).to_be_in_viewport()
    expect(name).to_be_in_viewport()
    assert name.bounding_box()["x"] >= 0
    assert overflow(phone) == 0


def test_the_menu_button_opens_the_navigation(cast, page, console_errors):
    phone = on_a_phone(page, cast.alice.email, PASSWORD, "**/o/alpha/")
    menu = phone.get_by_role("button", name="Menu")
    nav = phone.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    menu.click()

    expect(menu).to_have_attribute("aria-expanded", "true")
    for label in ["Dashboard", "Clients", "Engagements", "My work", "Audit log"]:
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    assert overflow(phone) == 0
    phone.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    menu.click()
    nav.get_by_role("link", name="Engagements").click()
    phone.wait_for_url("**/o/alpha/engagements/")
    expect(phone.get_by_role("heading", name="Engagements")).to_be_visible()
    assert console_errors == []


def test_the_menu_opens_without_javascript(cast, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    phone = on_a_phone(context.new_page(), cast.alice.email, PASSWORD, "**/o/alpha/")
    nav = phone.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()

    phone.get_by_role("button", name="Menu").click()

    expect(nav.get_by_role("link", name="Clients")).to_be_visible()
    nav.get_by_role("link", name="Clients").click()
    phone.wait_for_url("**/o/alpha/clients/")
    context.close()


def test_a_wide_screen_shows_the_sidebar_and_no_menu_button(cast, page):
    sign_in(page, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Clients")).to_be_visible()
    assert nav.bounding_box()["width"] == 220
    assert overflow(page) == 0
