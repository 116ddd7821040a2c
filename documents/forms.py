"""Forms of the upload, new-version and metadata pages (they validate only)."""

from __future__ import annotations

import uuid

from django import forms

from advisoros.accounts.models import User
from clients.models import Client, Engagement
from documents.models import AccessLevel, DocumentCategory


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [t for t in (" ".join(part.split()) for part in text.split(",")) if t]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"])
        for tag in value:
            if len(tag) > 50:
                raise forms.ValidationError(
                    f"A tag has at most 50 characters: “{tag[:20]}…”."
                )


class DocumentFieldsForm(forms.Form):
    """What the uploader says about the files (the same for every file sent)."""

    # Not required: a file sent without them (a script, an integration) is filed
    # as "other" with standard access.
    category = forms.ChoiceField(
        choices=DocumentCategory.choices,
        initial=DocumentCategory.OTHER,
        required=False,
    )
    tax_year = forms.IntegerField(min_value=1900, max_value=2200, required=False)
    engagement = forms.ModelChoiceField(
        queryset=Engagement.objects.none(), required=False, empty_label="—"
    )
    tags = TagsField(required=False, help_text="Separate tags with commas.")
    access_level = forms.ChoiceField(
        choices=AccessLevel.choices,
        initial=AccessLevel.STANDARD,
        required=False,
        help_text=(
            "Standard: everyone who may see the client. Restricted: the partner and"
            " manager, the uploader and the people named on the document."
            " Confidential: owners and admins."
        ),
    )
    visible_to_client = forms.BooleanField(
        required=False, label="Visible to the client in the portal"
    )

    def __init__(self, *args, client: Client, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.is_required = True  # no empty choice shown
        self.fields["access_level"].widget.is_required = True
        self.fields["engagement"].queryset = Engagement.objects.filter(
            organization_id=client.organization_id, client=client
        ).order_by("-tax_year", "name")

    def clean_category(self) -> str:
        return self.cleaned_data["category"] or DocumentCategory.OTHER

    def clean_access_level(self) -> str:
        return self.cleaned_data["access_level"] or AccessLevel.STANDARD


class UploadForm(DocumentFieldsForm):
    # A fresh token per page: a form sent twice (double click, reload) is
    # recognised and its files are not stored twice.
    upload_token = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("upload_token", uuid.uuid4().hex)


class DocumentEditForm(DocumentFieldsForm):
    title = forms.CharField(max_length=255)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    access_users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="People named on a restricted document",
    )

    field_order = [
        "title",
        "category",
        "tax_year",
        "engagement",
        "tags",
        "description",
        "access_level",
        "access_users",
        "visible_to_client",
    ]

    def __init__(self, *args, client: Client, **kwargs) -> None:
        super().__init__(*args, client=client, **kwargs)
        # The firm's active members only (the membership table's policy limits
        # the join to this firm as well).
        self.fields["access_users"].queryset = User.objects.filter(
            memberships__organization_id=client.organization_id,
            memberships__is_active=True,
        ).order_by("name", "email")


class VersionForm(forms.Form):
    """The no-JavaScript new-version form's token (the file comes through the
    upload handler, not through the form)."""

    upload_token = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("upload_token", uuid.uuid4().hex)
