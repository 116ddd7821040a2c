"""The trial-balance upload form: the month it is as at, and one CSV file."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from reports.csv_import import MAX_BYTES, MAX_ROWS, import_decode
from reports.services import month_end


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
