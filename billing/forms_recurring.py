"""The recurring-invoice form and its lines. The engagement comes from the URL
(loaded through the firm), never from a posted choice."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from advisoros.widgets import FastSelect
from billing.models import RecurringCadence, RecurringInvoice
from billing.services.recurring import MAX_LINES, LineData

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EMPTY_ROWS = 3  # blank line rows offered below the filled ones (no script needed)


class RecurringInvoiceForm(forms.ModelForm):
    class Meta:
        model = RecurringInvoice
        fields = [
            "cadence",
            "next_date",
            "end_date",
            "issue_automatically",
            "include_unbilled_time",
            "memo",
        ]
        labels = {
            "cadence": "How often",
            "next_date": "Next invoice on",
            "end_date": "Last invoice on or before",
            "issue_automatically": "Issue and email each invoice",
            "include_unbilled_time": "Add the engagement's unbilled time",
            "memo": "Note on each invoice",
        }
        help_texts = {
            "next_date": "Today or later. A day from the 1st to the 28th, or a "
            "month's last day (then every month's last day).",
            "end_date": "Leave empty to go on until it is paused or ended.",
            "issue_automatically": "Otherwise each invoice waits as a draft, and "
            "the engagement's partner and manager are notified to review it.",
            "include_unbilled_time": "Billable time recorded on the engagement "
            "before each invoice's date.",
            "memo": "Shown to the client.",
        }
        widgets = {
            "cadence": FastSelect,
            "next_date": _DATE,
            "end_date": _DATE,
            "memo": forms.TextInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadence"].choices = RecurringCadence.choices


class RecurringLineForm(forms.Form):
    """A line; a row left without a description is skipped."""

    description = forms.CharField(max_length=500, required=False)
    quantity = forms.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
    )
    taxable = forms.BooleanField(required=False, initial=True)

    def clean(self):
        data = super().clean()
        if not (data.get("description") or "").strip():
            if data.get("unit_price"):
                self.add_error("description", "Describe the line, or clear the row.")
            return data
        if data.get("unit_price") is None:
            self.add_error("unit_price", "Give the price.")
        if data.get("quantity") is None:
            data["quantity"] = Decimal("1")
        return data

    def line(self) -> LineData | None:
        data = self.cleaned_data
        if not (data.get("description") or "").strip():
            return None
        return LineData(
            description=data["description"].strip(),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            taxable=bool(data.get("taxable")),
        )


RecurringLineFormSet = forms.formset_factory(
    RecurringLineForm, extra=0, max_num=MAX_LINES, validate_max=True
)


def line_formset(data=None, *, initial: list[dict]) -> forms.BaseFormSet:
    """The lines given, then a few blank rows to add more."""
    rows = [*initial, *({} for _ in range(EMPTY_ROWS))][:MAX_LINES]
    return RecurringLineFormSet(data, initial=rows, prefix="lines")


def formset_lines(formset) -> list[LineData]:
    return [line for form in formset if (line := form.line()) is not None]
