"""The firm's billing settings (the "Billing settings" page, admins)."""

from __future__ import annotations

from django.db import transaction

from billing.models import BillingSettings

EDITABLE = (
    "currency",
    "payment_terms_days",
    "tax_rate",
    "time_increment_minutes",
    "time_rounding",
    "default_billing_rate",
    "reminder_days",
    "late_fee_percent",
    "late_fee_after_days",
    "invoice_footer",
)


@transaction.atomic
def billing_settings_update(
    *, settings: BillingSettings, data: dict
) -> BillingSettings:
    """Save the firm's billing rules (the change log records each change). The
    invoice counters are not among them: only issuing moves those, under their
    own lock, so this saves the named fields only and never writes a counter
    back over a number issued meanwhile. New invoices take the new currency,
    tax rate and terms; issued ones keep theirs."""
    for name in EDITABLE:
        if name in data:
            setattr(settings, name, data[name])
    settings.full_clean(
        exclude=["organization", "next_invoice_number", "next_credit_note_number"],
        validate_unique=False,
    )
    settings.save(update_fields=[*EDITABLE, "updated_at"])
    return settings
