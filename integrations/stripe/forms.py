"""Forms of the Stripe pages: they validate and normalise only."""

from __future__ import annotations

from decimal import Decimal

from django import forms


class StripeAccountForm(forms.Form):
    secret_key = forms.CharField(
        label="Secret key",
        max_length=300,
        required=False,
        strip=True,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="From Stripe's Developers › API keys: sk_live_… (or sk_test_… to "
        "try it out). Checked with Stripe before it is saved, then stored encrypted.",
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        max_length=300,
        required=False,
        strip=True,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="whsec_…, shown by Stripe once you add the webhook address below.",
    )
    accept_cards = forms.BooleanField(label="Take cards", required=False)
    accept_ach = forms.BooleanField(
        label="Take US bank accounts (ACH; US dollar invoices only)", required=False
    )

    def __init__(self, *args, connected: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if connected:
            self.fields["secret_key"].label = "New secret key"
            self.fields["secret_key"].help_text = (
                "Leave empty to keep the saved key. A new key is checked with Stripe "
                "before it replaces the old one."
            )


class StripeRefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund",
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
    )
    reason = forms.CharField(label="Reason", max_length=300, required=False)
