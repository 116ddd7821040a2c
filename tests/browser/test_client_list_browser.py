"""The client list in Chromium: the search box and page links swap the results
through htmx, select-all feeds a bulk action, and the CSP stays quiet."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_create
from clients.services.search import search_index_clients
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_select_all_and_a_bulk_tag(cast, page):
    with tenant_context(cast.alpha):
        client_create(
            organization=cast.alpha,
            data={"display_name": "John Smith", "tax_id": "123-45-6789"},
        )
        many = Client.objects.bulk_create(
            Client(
                organization=cast.alpha,
                display_name=f"Harrison {i:02d}",
                sort_name=f"harrison {i:02d}",
                client_code=f"HARR{i:02d}",
            )
            for i in range(60)
        )
        search_index_clients([c.pk for c in many])
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(cast.alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/o/alpha/")
    page.goto("/o/alpha/clients/")
    rows = page.locator("[data-testid=client-rows] tbody tr")

    page.get_by_label("Search").fill("smith")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("•••-••-6789")
    page.get_by_label("Search").fill("harisson")  # a typo
    expect(page.get_by_test_id("client-suggestions")).to_contain_text("Harrison 00")
    page.get_by_label("Search").fill("harrison")
    expect(rows).to_have_count(50)
    page.get_by_label("Sort").select_option("-name")
    expect(rows.first).to_contain_text("Harrison 59")
    expect(page).to_have_url(re.compile(r"q=harrison.*sort=-name"))
    page.get_by_label("Sort").select_option("name")
    expect(rows.first).to_contain_text("Harrison 00")

    page.get_by_role("link", name="Next →").click()
    expect(rows.first).to_contain_text("Harrison 50")
    expect(rows).to_have_count(10)
    page.get_by_role("link", name="← Previous").click()
    expect(rows.first).to_contain_text("Harrison 00")
    page.get_by_label("Select every client on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("50 selected")
    page.get_by_label("New tag").fill("Extension")
    page.get_by_role("button", name="Add tag").click()

    expect(page.get_by_text("Tag “Extension” added to 50 clients.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=harrison"))
    assert page.console_errors == []
