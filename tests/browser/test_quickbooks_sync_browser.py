"""The sync's conflicts and errors on a phone: both sides of a conflict, the
resolutions, an error with Retry; the connection page's health. Each state
fits 390 px and is WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_update
from integrations.quickbooks.models import SyncIssue
from tests.browser.axe import assert_fits_and_accessible
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.integrations.quickbooks.conftest import FIRM_REALM, connect, sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_resolves_a_conflict_on_a_phone(
    cast, phone, console_errors, intuit_standin
):
    company = intuit_standin.add_company(FIRM_REALM, name="Alpha Accounting LLC")
    books = connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM)
    acme = company.add("Customer", DisplayName="Acme Ltd")
    sync(books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"display_name": "Acme Group"})
    company.touch("Customer", acme["Id"], DisplayName="Acme Holdings Worldwide Ltd")
    sync(books)
    with tenant_context(cast.alpha):
        SyncIssue.objects.create(
            organization=cast.alpha,
            connection=books,
            kind="error",
            direction="pull",
            entity="Payment",
            key="4410",
            label="Payment 4410",
            message="This payment of 900.00 USD is more than the 400.00 USD still "
            "owed on INV-00001.",
        )
    sign_in(phone, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    phone.goto("/o/alpha/integrations/quickbooks/")
    expect(phone.get_by_test_id("quickbooks-health")).to_contain_text("1 to resolve")
    assert_fits_and_accessible(phone)
    phone.goto("/o/alpha/integrations/quickbooks/issues/")
    expect(phone.get_by_test_id("quickbooks-conflict")).to_contain_text(
        "Acme Holdings Worldwide Ltd"
    )
    expect(phone.get_by_test_id("quickbooks-error")).to_contain_text("more than")
    assert_fits_and_accessible(phone)

    phone.get_by_role("button", name="Keep ours (QuickBooks is updated)").click()

    expect(phone.get_by_text("resolved; the sync follows")).to_be_visible()
    expect(phone.get_by_test_id("quickbooks-conflict")).to_have_count(0)
    assert_fits_and_accessible(phone)
    assert company.entities("Customer")[acme["Id"]]["DisplayName"] == "Acme Group"
    assert console_errors == [], console_errors
