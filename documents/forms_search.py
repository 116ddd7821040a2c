"""The filters of the documents page (documents.views.search)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from advisoros.widgets import FastSelect
from documents.models import DocumentCategory, OcrStatus

YEARS_SHOWN = 10


class DocumentSearchForm(forms.Form):
    """Validates the page's query string; an invalid value is simply not applied.

    `client` is a client's uuid: the view resolves it through the member's
    visible clients, so another firm's (or an unassigned) client filters nothing.
    The search box and the client picker are in the template, with their htmx
    attributes."""

    q = forms.CharField(required=False, strip=True)  # the service keeps 200 chars
    client = forms.UUIDField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(
        required=False,
        choices=[("", "Any category"), *DocumentCategory.choices],
        widget=FastSelect,
    )
    tax_year = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Tax year",
        widget=FastSelect,
    )
    ocr_status = forms.ChoiceField(
        required=False,
        label="OCR",
        choices=[("", "Any OCR status"), *OcrStatus.choices],
        widget=FastSelect,
    )

    def __init__(self, *args, search_url: str, **kwargs):
        kwargs.setdefault("label_suffix", "")  # like the search box's label
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["tax_year"].choices = [
            ("", "Any year"),
            *(
                (year, str(year))
                for year in range(this_year, this_year - YEARS_SHOWN, -1)
            ),
        ]
        for name in ("category", "tax_year", "ocr_status"):
            # Each select asks for the results itself when it changes.
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": search_url,
                    "hx-include": "closest form",
                    "hx-sync": "closest form:replace",
                }
            )
