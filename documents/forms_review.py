"""The needs-review queue's form: a person's category and tax year for a document."""

from __future__ import annotations

from django import forms

from documents.models import DocumentCategory


class ReviewConfirmForm(forms.Form):
    category = forms.ChoiceField(choices=DocumentCategory.choices)
    tax_year = forms.IntegerField(
        required=False,
        min_value=1900,
        max_value=2200,
        error_messages={"min_value": "Enter a year from 1900 to 2200."},
    )
