"""Forms of the document request pages and of the firm's document settings.

They validate and normalise only; the rules live in documents.services.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from advisoros.widgets import FastSelect
from clients.models import Engagement
from documents.models import (
    Document,
    DocumentCategory,
    DocumentRequest,
    DocumentRequestItem,
    DocumentSettings,
)
from documents.services.requests import MAX_ITEMS, REQUEST_TEMPLATES

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

STATUS_OPEN = ""  # the default: open requests
STATUS_OVERDUE = "overdue"
STATUS_ALL = "all"
REQUEST_STATUS_CHOICES = [
    (STATUS_OPEN, "Open"),
    (STATUS_OVERDUE, "Open with overdue items"),
    *(
        (s.value, s.label)
        for s in (DocumentRequest.Status.COMPLETED, DocumentRequest.Status.CANCELLED)
    ),
    (STATUS_ALL, "All statuses"),
]


class RequestFilterForm(forms.Form):
    q = forms.CharField(
        label="Client",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, code, contact…"}
        ),
    )
    status = forms.ChoiceField(
        required=False, choices=REQUEST_STATUS_CHOICES, widget=FastSelect
    )

    def url_params(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"q": data.get("q", ""), "status": data.get("status", "")}


class DocumentRequestForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "2025 tax documents"}),
    )
    message = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the client above the list and in reminder emails.",
    )
    engagement = forms.ModelChoiceField(
        queryset=Engagement.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="No engagement",
    )
    due_date = forms.DateField(
        label="Due date for every item",
        required=False,
        widget=_DATE,
        help_text="Items with a date of their own keep it.",
    )

    def __init__(self, *args, engagements: QuerySet[Engagement], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


class RequestItemForm(forms.ModelForm):
    class Meta:
        model = DocumentRequestItem
        fields = ["title", "category", "due_date", "description"]
        labels = {"title": "What is needed", "description": "Notes for the client"}
        widgets = {
            "due_date": _DATE,
            "description": forms.TextInput(attrs={"placeholder": "Optional"}),
            "category": FastSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", "Any category"),
            *DocumentCategory.choices,
        ]


class RequestItemRowForm(RequestItemForm):
    """A row of the create page: a row left without a title is skipped."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False

    def clean(self):
        data = super().clean()
        if not (data.get("title") or "").strip() and (
            data.get("description") or data.get("due_date")
        ):
            self.add_error("title", "Say what is needed, or clear the row.")
        return data


RequestItemFormSet = forms.formset_factory(
    RequestItemRowForm, extra=0, max_num=MAX_ITEMS, validate_max=True
)


def item_formset_initial(template: str) -> list[dict]:
    """The rows a named template (REQUEST_TEMPLATES) starts the create page with."""
    _, rows = REQUEST_TEMPLATES.get(template, ("", []))
    return [{"title": title, "category": category} for title, category in rows]


class ItemAttachForm(forms.Form):
    document = forms.ModelChoiceField(
        queryset=Document.objects.none(),
        to_field_name="uuid",
        empty_label="Choose one of the client's documents…",
        error_messages={
            "invalid_choice": "Choose one of this client's documents.",
            "required": "Choose one of this client's documents.",
        },
    )

    def __init__(self, *args, documents: QuerySet[Document], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = documents
        self.fields["document"].label_from_instance = _document_label

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The select's options, for a row-per-item template: one query for all."""
        return [
            (str(d.uuid), _document_label(d)) for d in self.fields["document"].queryset
        ]


def _document_label(document: Document) -> str:
    year = f" · {document.tax_year}" if document.tax_year else ""
    return f"{document.title} ({document.original_filename}{year})"


class ItemRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Say why, so the client knows what to send instead."
        },
    )


# The firm's document settings ------------------------------------------------------


def retention_field_name(category: str) -> str:
    return f"retention_{category}"


class DocumentSettingsForm(forms.ModelForm):
    """The firm's document rules, with one "keep for (years)" field per category;
    a blank one follows the firm's default."""

    class Meta:
        model = DocumentSettings
        fields = ["max_upload_mb", "ocr_review_threshold", "reminder_every_days"]
        labels = {
            "max_upload_mb": "Largest upload (MB)",
            "ocr_review_threshold": "OCR review threshold",
            "reminder_every_days": "Remind clients every (days)",
        }
        help_texts = {
            "ocr_review_threshold": "0 to 1: a scan read with less confidence "
            "goes to the review queue (0.80 by default).",
            "reminder_every_days": "Clients with overdue requested items get one "
            "email per request at most this often.",
        }

    def __init__(self, *args, default_years: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ocr_review_threshold"].widget.attrs["step"] = "0.01"
        overrides = self.instance.retention_years_by_category or {}
        for value, label in DocumentCategory.choices:
            name = retention_field_name(value)
            self.fields[name] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                max_value=100,
                initial=overrides.get(value),
                widget=forms.NumberInput(attrs={"placeholder": str(default_years)}),
            )

    def retention_fields(self):
        return [self[retention_field_name(v)] for v in DocumentCategory.values]

    def main_fields(self):
        return [self[name] for name in self.Meta.fields]

    def retention_overrides(self) -> dict[str, int]:
        """{category: years} for the categories given a number, 0 meaning "keep
        permanently" (call after is_valid)."""
        return {
            value: years
            for value in DocumentCategory.values
            if (years := self.cleaned_data.get(retention_field_name(value))) is not None
        }


# Retention -------------------------------------------------------------------------

PURGE_WORD = "PURGE"


class PurgeConfirmForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "Past the firm's retention period"}
        ),
        error_messages={"required": "Say why these documents are purged."},
    )
    confirm = forms.CharField(
        label=f"Type {PURGE_WORD} to confirm",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count
        self.fields[
            "confirm"
        ].help_text = f"Or the number of documents ({count}). This cannot be undone."

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value not in (PURGE_WORD, str(self.count)):
            raise forms.ValidationError(
                f"Type {PURGE_WORD} (or {self.count}) to confirm the purge."
            )
        return value


class LegalHoldForm(forms.Form):
    on = forms.TypedChoiceField(
        choices=[("1", "Place on hold"), ("0", "Release")],
        coerce=lambda value: value == "1",
        error_messages={"required": "Choose whether to place or release the hold."},
    )
    reason = forms.CharField(max_length=200, required=False)
    next = forms.CharField(required=False, max_length=500)
