"""The Safeguards page in a browser, on a desk and on a phone: it fits the
screen and axe finds nothing (WCAG 2.1 AA), with items in both states and the
list of members without two-factor showing."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.axe import assert_fits_and_accessible
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("tab", ["page", "phone"], ids=["desk", "phone"])
def test_the_safeguards_page_fits_and_is_accessible(
    cast, request, tab, console_errors, settings
):
    settings.CLAMD_SOCKET = "/run/clamav/clamd.ctl"  # one item OK, others not
    TOTPDevice.objects.create(user=cast.sam, name="phone", confirmed=True)
    page = request.getfixturevalue(tab)
    sign_in(page, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    page.goto("/o/alpha/safeguards/")

    expect(page.get_by_role("heading", name="Safeguards")).to_be_visible()
    expect(page.get_by_test_id("safeguard-two_factor")).to_contain_text("Mia Manager")
    assert page.get_by_text("Needs attention").count() >= 1
    assert_fits_and_accessible(page)

    page.get_by_role("button", name="I reviewed who has access").click()
    page.wait_for_url("**/o/alpha/safeguards/")
    expect(page.get_by_test_id("safeguard-access_review")).to_contain_text(
        "by Alice Owner"
    )
    assert_fits_and_accessible(page)
    assert console_errors == []
