"""The client import's upload form: one CSV file, read as text or refused."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from clients.services.imports import MAX_BYTES, MAX_ROWS, import_decode


class ClientImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"Comma-separated, UTF-8 or Windows text, up to "
        f"{MAX_BYTES // (1024 * 1024)} MB and {MAX_ROWS:,} clients.",
        error_messages={
            "empty": "The file is empty.",
            "required": "Choose a CSV file to upload.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    text: str = ""

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: "
                "split it into smaller files."
            )
        self.text = import_decode(upload.read())
        return upload
