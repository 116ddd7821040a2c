"""The trial-balance upload form: the month it is as at, and one CSV file."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from reports.csv_import import MAX_BYTES, MAX_ROWS, import_decode
from reports.models import (
    ScheduleFrequency,
    StatementKind,
    StatementTemplate,
    month_end,
)


class TrialBalanceUploadForm(forms.Form):
    month = forms.CharField(
        label="As at the end of",
        help_text="The month whose last day the trial balance is as at (YYYY-MM).",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        error_messages={"required": "Choose the month the trial balance closes."},
    )
    file = forms.FileField(
        label="CSV file",
        help_text=f"Comma-separated, UTF-8 or Windows text, up to "
        f"{MAX_BYTES // (1024 * 1024)} MB and {MAX_ROWS:,} accounts.",
        error_messages={
            "empty": "The file is empty.",
            "required": "Choose a CSV file to upload.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    text: str = ""

    def clean_month(self) -> date:
        value = self.cleaned_data["month"].strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise ValidationError("Enter a month as YYYY-MM, e.g. 2026-11.")
        return month_end(date(int(match[1]), int(match[2]), 1))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."
            )
        self.text = import_decode(upload.read())
        return upload


class StatementTemplateForm(forms.Form):
    """A template's settings. Each statement gets a position in the package
    (empty: left out); the client's account groups are read by the view from
    one text box per account (`group_<id>`)."""

    title = forms.CharField(
        max_length=120,
        required=False,
        help_text="The package's title on the PDF and the workbook.",
    )
    show_account_numbers = forms.BooleanField(
        label="Show account numbers", required=False
    )
    show_zero_rows = forms.BooleanField(
        label="Show accounts with no figures", required=False
    )
    branded = forms.BooleanField(
        label="Use the firm's logo and colour on the PDF", required=False
    )
    footer = forms.CharField(
        max_length=300,
        required=False,
        help_text="Printed under each statement (a compilation note, for example).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in StatementKind.choices:
            self.fields[f"order_{kind}"] = forms.IntegerField(
                label=f"{label}: position",
                required=False,
                min_value=1,
                max_value=len(StatementKind.choices),
                help_text="Its place in the package; empty leaves it out.",
            )

    def clean(self):
        data = super().clean()
        chosen = {
            kind: data.get(f"order_{kind}")
            for kind in StatementKind.values
            if data.get(f"order_{kind}")
        }
        if self.is_bound and not self.errors and not chosen:
            raise ValidationError("Give at least one statement a position.")
        data["statements"] = sorted(chosen, key=lambda k: (chosen[k], k))
        return data

    @classmethod
    def initial_from(cls, template: StatementTemplate | None) -> dict:
        template = template or StatementTemplate()
        initial = {
            "title": template.title,
            "show_account_numbers": template.show_account_numbers,
            "show_zero_rows": template.show_zero_rows,
            "branded": template.branded,
            "footer": template.footer,
        }
        for position, kind in enumerate(template.kinds, start=1):
            initial[f"order_{kind}"] = position
        return initial


class StatementScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        choices=ScheduleFrequency.choices, initial=ScheduleFrequency.MONTHLY
    )
    share_to_portal = forms.BooleanField(
        label="Share the PDF to the client's portal", required=False, initial=True
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
