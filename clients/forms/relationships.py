"""Relate the client to another one of the firm, named by its client code."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from clients.models import Client, RelationshipKind


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(label="Relationship", choices=RelationshipKind.choices)
    client_code = forms.CharField(
        label="Other client's code",
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "e.g. SMITH-J"}),
    )

    def __init__(self, *args, visible_clients: QuerySet[Client], **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_clients = visible_clients

    def clean_client_code(self) -> Client:
        # Codes are stored upper-case: an equality match uses the (firm, code) index.
        code = self.cleaned_data["client_code"].strip().upper()
        other = self.visible_clients.filter(client_code=code).first()
        if other is None:
            raise forms.ValidationError(f"No client with the code {code}.")
        return other
