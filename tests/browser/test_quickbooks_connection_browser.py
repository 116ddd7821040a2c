"""An owner connects the firm's QuickBooks on a phone: the button, Intuit's
consent (the stand-in approves at once and sends the browser back), the page
connected; a connection needing a new sign-in shows its banner on every page.
Each state fits 390 px and is WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import QuickBooksConnection, SyncRun, WebhookEvent
from tests.browser.axe import assert_fits_and_accessible
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_connects_quickbooks_on_a_phone(
    cast, phone, console_errors, intuit_standin, live_server, settings
):
    settings.INTUIT_REDIRECT_URI = (
        f"{live_server.url}/integrations/quickbooks/callback/"
    )
    intuit_standin.add_company("1001", name="Alpha Accounting LLC")
    sign_in(phone, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    phone.goto("/o/alpha/integrations/quickbooks/")
    assert_fits_and_accessible(phone)
    phone.get_by_test_id("quickbooks-connect-firm").click()

    expect(phone.get_by_test_id("quickbooks-status")).to_have_text("Connected")
    expect(
        phone.get_by_text("QuickBooks connected: Alpha Accounting LLC.")
    ).to_be_visible()
    assert_fits_and_accessible(phone)
    with tenant_context(cast.alpha):
        books = QuickBooksConnection.objects.get(organization=cast.alpha)
        SyncRun.objects.create(
            organization=cast.alpha,
            connection=books,
            kind="full",
            status="partial",
            error_count=1,
            requests_made=40,
            duration_ms=5300,
        )
        WebhookEvent.objects.create(
            organization=cast.alpha,
            connection=books,
            event_id="e1",
            type="qbo.invoice.updated.v1",
            entity_id="130",
            payload={},
        )
        QuickBooksConnection.objects.filter(pk=books.pk).update(
            status="reconnect", last_error="Intuit refused the refresh token."
        )
    from django.core.cache import cache

    cache.set(f"qbo:reconnect:{cast.alpha.pk}", 1, None)
    phone.reload()
    expect(phone.get_by_test_id("quickbooks-reconnect-notice")).to_be_visible()
    expect(phone.get_by_test_id("quickbooks-status")).to_have_text(
        "Needs a new sign-in"
    )
    assert_fits_and_accessible(phone)
    assert console_errors == [], console_errors


def test_with_no_keys_the_page_says_how_to_turn_it_on(cast, phone, console_errors):
    sign_in(phone, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    phone.goto("/o/alpha/integrations/quickbooks/")

    expect(phone.get_by_test_id("quickbooks-off")).to_be_visible()
    expect(phone.get_by_test_id("quickbooks-connect-firm")).to_be_disabled()
    assert_fits_and_accessible(phone)
    assert console_errors == [], console_errors
