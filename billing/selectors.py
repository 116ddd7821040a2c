"""Small reads of the billing app that other modules share."""

from __future__ import annotations

from advisoros.tenancy.models import Organization
from billing.models import BillingSettings


def billing_settings(organization: Organization) -> BillingSettings:
    """The firm's billing rules, made with the defaults on first use (one row per
    firm: a concurrent first use finds the other's row, get_or_create retries)."""
    settings, _ = BillingSettings.objects.get_or_create(organization=organization)
    return settings
