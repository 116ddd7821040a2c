"""The firm's billing settings (admins): saved, validated, counters untouched."""

from __future__ import annotations

from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from billing.models import BillingSettings
from billing.selectors import billing_settings
from tests.factories import make_draft_invoice

URL = "/o/alpha/billing/settings/"
FORM = {
    "currency": "cad",
    "payment_terms_days": "15",
    "tax_rate": "13",
    "time_increment_minutes": "15",
    "time_rounding": "nearest",
    "default_billing_rate": "175",
    "reminder_days": "30, 7,14,7",
    "late_fee_percent": "1.5",
    "late_fee_after_days": "45",
    "invoice_footer": "Wire to Maple Bank 123",
}


def _settings(org) -> BillingSettings:
    with tenant_context(org):
        return billing_settings(org)


def test_an_admin_saves_the_settings(cast, login_as, jane):
    response = login_as(cast.adam).post(URL, FORM, follow=True)

    saved = _settings(cast.alpha)
    assert (saved.currency, saved.payment_terms_days, saved.tax_rate) == (
        "CAD",
        15,
        Decimal("13.000"),
    )
    assert (saved.time_increment_minutes, saved.time_rounding) == (15, "nearest")
    assert saved.reminder_days == "7,14,30"
    assert (saved.late_fee_percent, saved.late_fee_after_days) == (Decimal("1.50"), 45)
    assert saved.invoice_footer == "Wire to Maple Bank 123"
    assert "Billing settings saved." in response.content.decode()
    # New drafts take the new currency and tax rate.
    draft = make_draft_invoice(jane, cast.sam)
    assert (draft.currency, draft.tax_rate) == ("CAD", Decimal("13.000"))


def test_bad_values_are_refused_on_the_form(cast, login_as):
    response = login_as(cast.adam).post(
        URL,
        {
            **FORM,
            "currency": "US1",
            "reminder_days": "soon",
            "tax_rate": "120",
            "time_increment_minutes": "0",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "three-letter ISO 4217 code" in html
    assert "numbers separated by commas" in html
    assert "less than or equal to 100" in html
    assert "greater than or equal to 1" in html
    assert _settings(cast.alpha).currency == "USD"


def test_saving_never_moves_the_invoice_counters(cast, login_as):
    with tenant_context(cast.alpha):
        BillingSettings.objects.update_or_create(
            organization=cast.alpha, defaults={"next_invoice_number": 42}
        )

    login_as(cast.adam).post(URL, FORM)

    assert _settings(cast.alpha).next_invoice_number == 42


def test_the_page_shows_the_next_number(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    assert "INV-00001" in html and 'name="currency"' in html


def test_staff_and_read_only_get_403(cast, login_as):
    assert login_as(cast.mia).get(URL).status_code == 403
    assert login_as(cast.sam).post(URL, FORM).status_code == 403
    assert login_as(cast.rita).get(URL).status_code == 403
    assert _settings(cast.alpha).currency == "USD"
