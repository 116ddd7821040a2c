"""Forms of the staff invoice pages. They validate and normalise; the rules
(what an issued invoice refuses, how much may be paid or refunded) are the
services' (billing.services), whose errors the views put back on these forms."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from billing.invoice_selectors import STATUS_CHOICES
from billing.models import (
    MANUAL_METHODS,
    BillingSettings,
    LineKind,
    PaymentMethod,
    money,
)
from clients.models import Engagement

MONEY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {"max_digits": 6, "decimal_places": 3}


class InvoiceFilterForm(forms.Form):
    """Drawn by the list (its values are read by InvoiceFilters)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "INV-00042 or a client's name"}
        ),
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    issued_from = forms.DateField(
        label="Issued from", required=False, widget=forms.DateInput({"type": "date"})
    )
    issued_to = forms.DateField(
        label="Issued to", required=False, widget=forms.DateInput({"type": "date"})
    )


class EngagementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Engagement) -> str:
        return obj.name


class NewInvoiceForm(forms.Form):
    engagement = EngagementChoiceField(
        queryset=Engagement.objects.none(),
        required=False,
        empty_label="No engagement (the client as a whole)",
        help_text="The invoice's lines may still name other engagements.",
    )

    def __init__(self, *args, engagements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


class InvoiceUpdateForm(forms.Form):
    memo = forms.CharField(
        label="Memo",
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 3}),
        help_text="Printed on the invoice for the client.",
    )
    discount_percent = forms.DecimalField(label="Discount (%)", **PERCENT)
    tax_rate = forms.DecimalField(label="Tax rate (%)", **PERCENT)
    due_date = forms.DateField(
        label="Due date",
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text="Blank: the firm's payment terms from the day it is issued.",
    )


class InvoiceAddTimeForm(forms.Form):
    """The unbilled time to add: the entries ticked, or all of it."""

    entries = forms.MultipleChoiceField(required=False)
    group_by_engagement = forms.BooleanField(
        label="One line per engagement (and rate)", required=False
    )
    add_all = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, entry_uuids: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entries"].choices = [(u, u) for u in entry_uuids]

    def clean(self):
        data = super().clean()
        if not data.get("add_all") and not data.get("entries"):
            raise ValidationError("Tick the time entries to add.")
        return data


LINE_KINDS = [
    (LineKind.FEE, "Fixed fee"),
    (LineKind.RETAINER, "Retainer"),
    (LineKind.EXPENSE, "Expense"),
]


class InvoiceLineAddForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=LINE_KINDS, initial=LineKind.FEE)
    description = forms.CharField(label="Description", max_length=500)
    # No minimum here: the service refuses a negative quantity in its own words.
    quantity = forms.DecimalField(
        label="Quantity", initial=1, max_digits=10, decimal_places=2
    )
    unit_price = forms.DecimalField(label="Unit price", **MONEY)
    taxable = forms.BooleanField(label="Taxable", required=False, initial=True)
    engagement = EngagementChoiceField(
        queryset=Engagement.objects.none(),
        required=False,
        empty_label="The invoice's engagement",
    )

    def __init__(self, *args, engagements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


class InvoiceLineForm(forms.Form):
    """Edit a draft's line. A time line's hours and rate come from its entries;
    any line may bill another amount than its standard value (a write-up or a
    write-down), with a reason."""

    description = forms.CharField(label="Description", max_length=500)
    quantity = forms.DecimalField(label="Quantity", max_digits=10, decimal_places=2)
    unit_price = forms.DecimalField(label="Unit price", **MONEY)
    amount = forms.DecimalField(
        label="Bill instead",
        required=False,
        help_text="Blank: bill the standard amount. Another amount writes the line "
        "up or down.",
        **MONEY,
    )
    adjustment_reason = forms.CharField(
        label="Reason for the write-up or write-down", required=False, max_length=300
    )
    taxable = forms.BooleanField(label="Taxable", required=False)

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        if line.kind == LineKind.TIME:
            for name in ("quantity", "unit_price"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "From the line's time entries."

    def standard_amount(self) -> Decimal:
        data = self.cleaned_data
        if self.line.kind == LineKind.TIME:
            return self.line.standard_amount
        return money(data["quantity"] * data["unit_price"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        amount = data.get("amount")
        adjusted = amount is not None and money(amount) != self.standard_amount()
        if adjusted and not data.get("adjustment_reason", "").strip():
            self.add_error(
                "adjustment_reason", "Say why the line bills another amount."
            )
        if not adjusted:
            data["adjustment_reason"] = ""
        return data


class VoidForm(forms.Form):
    reason = forms.CharField(label="Why is it void?", max_length=300)


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(label="Amount", **MONEY)
    reason = forms.CharField(label="Reason", max_length=300)


class PaymentForm(forms.Form):
    method = forms.ChoiceField(
        label="Method",
        choices=[(m, PaymentMethod(m).label) for m in MANUAL_METHODS],
        initial=PaymentMethod.CHECK,
    )
    amount = forms.DecimalField(label="Amount", **MONEY)
    received_on = forms.DateField(
        label="Received on", widget=forms.DateInput({"type": "date"})
    )
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=200,
        help_text="A check number, a wire reference.",
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(label="Amount to refund", **MONEY)
    reason = forms.CharField(label="Reason", required=False, max_length=300)


REMINDER_DAYS = re.compile(r"^\s*(\d{1,3}\s*(,\s*\d{1,3}\s*)*)?$")


class BillingSettingsForm(forms.ModelForm):
    class Meta:
        model = BillingSettings
        fields = [
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
        ]
        widgets = {"invoice_footer": forms.Textarea({"rows": 4})}

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValidationError("Enter a three-letter ISO 4217 code, e.g. USD.")
        return code

    def clean_reminder_days(self) -> str:
        value = self.cleaned_data["reminder_days"]
        if not REMINDER_DAYS.match(value):
            raise ValidationError("Enter days as numbers separated by commas: 3,14,30.")
        days = sorted({int(p) for p in value.replace(" ", "").split(",") if p})
        return ",".join(str(d) for d in days)
