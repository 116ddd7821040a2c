"""A partner adds a client in a real browser, fills in its people and work, and
finds it again by searching.

Chromium runs the pages as a visitor would: the Content-Security-Policy, htmx's
live search and the redirects all really happen. Any console error (a CSP
violation shows up as one) fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_a_partner_adds_a_client_with_a_contact_and_an_engagement_then_finds_it(
    demo, page, console_errors
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@demo.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/o/demo/")

    # A new client through the form.
    page.goto("/o/demo/clients/new/")
    form = page.get_by_test_id("client-form")
    form.get_by_label("Display name").fill("Quinn Harper Design")
    form.get_by_label("Entity type").select_option(label="Sole proprietorship")
    form.get_by_label("Tax id (SSN, ITIN or EIN)").fill("214 55 8123")
    form.get_by_label("Partner").select_option(label="Olivia Owner")
    form.get_by_role("button", name="Add client").click()

    page.wait_for_url(re.compile(r"/o/demo/clients/[0-9a-f-]{36}/"))
    client_url = page.url.split("?")[0]
    assert page.get_by_role("heading", name="Quinn Harper Design").is_visible()
    facts = page.get_by_test_id("client-facts")
    assert "•••-••-8123" in facts.inner_text()  # only the last four are shown
    assert "214-55-8123" not in page.content()

    # A contact, from the contacts tab.
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_role("link", name="New contact").click()
    page.get_by_label("First name").fill("Quinn")
    page.get_by_label("Last name").fill("Harper")
    page.get_by_label("Email").fill("quinn@harperdesign.example")
    page.get_by_label("Role for this client").select_option(label="Primary")
    page.get_by_role("button", name="Add contact").click()
    page.wait_for_url(f"{client_url}?tab=contacts")
    contacts = page.get_by_test_id("contacts")
    assert "quinn@harperdesign.example" in contacts.inner_text()

    # An engagement, from the client page.
    page.get_by_role("link", name="New engagement").click()
    form = page.get_by_test_id("engagement-form")
    form.get_by_label(re.compile(r"^Name")).fill("2025 Form 1040 with Schedule C")
    form.get_by_label(re.compile(r"^Type")).select_option(label="Individual tax return")
    form.get_by_label("Tax year").fill("2025")
    form.get_by_label("Fee / retainer amount").fill("1200")
    form.get_by_role("button", name="Create engagement").click()
    page.wait_for_url("**/o/demo/engagements/*/")
    assert page.get_by_role(
        "heading", name="2025 Form 1040 with Schedule C"
    ).is_visible()

    page.goto(f"{client_url}?tab=engagements")
    assert page.get_by_text("2025 Form 1040 with Schedule C").first.is_visible()
    page.goto(client_url)
    # The overview's recent activity arrives once the page is shown (htmx).
    activity = page.get_by_test_id("recent-activity")
    activity.get_by_text("Engagement opened: 2025 Form 1040 with Schedule C").wait_for()
    assert "Loading the latest activity" not in activity.inner_text()
    page.screenshot(path=SCREENSHOTS / "client-detail.png", full_page=True)

    # Back to the list: the contact's email finds the client.
    page.goto("/o/demo/clients/")
    page.screenshot(path=SCREENSHOTS / "client-list.png", full_page=True)
    page.get_by_label("Search").fill("quinn@harperdesign.example")
    page.wait_for_url(re.compile(r"q=quinn(%40|@)harperdesign\.example"))
    results = page.get_by_test_id("client-results")
    results.get_by_role("link", name="Quinn Harper Design").wait_for()
    assert results.get_by_role("link").filter(has_text="Dental").count() == 0
    page.screenshot(path=SCREENSHOTS / "client-search.png", full_page=True)
    results.get_by_role("link", name="Quinn Harper Design").click()
    page.wait_for_url(f"{client_url}**")

    demo_firm = Organization.objects.get(slug="demo")
    with tenant_context(demo_firm):
        client = Client.objects.get(display_name="Quinn Harper Design")
        assert client.tax_id == "214-55-8123"
        # A sole proprietor's code comes from its business name's first word.
        assert client.client_code == "QUINN"
    assert console_errors == []


def test_a_csv_import_is_previewed_with_its_errors_then_imported(
    demo, page, console_errors
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@demo.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/o/demo/")
    header = "display_name,entity_type,tax_id,partner_email,tags,contact_first_name,contact_email\n"
    good = "Lakeside Bakery,LLC,36-1234567,owner@demo.test,New client,Ava,ava@lakeside.example\n"
    bad = "Pine Street Dental,S corporation,123-45-6789,nobody@demo.test,,,\n"

    page.goto("/o/demo/clients/")
    page.get_by_role("link", name="Import CSV").click()
    page.screenshot(path=SCREENSHOTS / "import-upload.png", full_page=True)
    upload = page.get_by_test_id("import-upload")
    upload.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "clients.csv",
                "mimeType": "text/csv",
                "buffer": (header + good + bad).encode(),
            }
        ]
    )
    upload.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/clients/import/[0-9a-f-]{36}/$"))
    page.screenshot(path=SCREENSHOTS / "import-preview-errors.png", full_page=True)
    assert (
        "1 row has errors" in page.get_by_test_id("import-errors-summary").inner_text()
    )
    assert page.get_by_role("button", name="Import 2 clients").is_disabled()
    assert "not an active member" in page.locator("tr.row-error").inner_text()

    page.get_by_role("link", name="Upload another file").click()
    upload = page.get_by_test_id("import-upload")
    upload.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "clients.csv",
                "mimeType": "text/csv",
                "buffer": (header + good).encode(),
            }
        ]
    )
    upload.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/clients/import/[0-9a-f-]{36}/$"))
    page.get_by_role("button", name="Import 1 client").click()

    # The import runs as a background job; the preview page shows it finish.
    done = page.get_by_test_id("import-done")
    done.wait_for()
    assert "1 client and 1 new contact were imported" in done.inner_text()
    done.get_by_role("link", name="See the clients").click()
    page.wait_for_url("**/o/demo/clients/")
    page.get_by_label("Search").fill("ava@lakeside.example")
    page.get_by_test_id("client-results").get_by_role(
        "link", name="Lakeside Bakery"
    ).wait_for()
    assert console_errors == []
