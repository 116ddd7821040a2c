from __future__ import annotations

from django import forms

from advisoros.audit.models import AuditAction
from advisoros.tenancy.models import Membership, Organization


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        label="Who",
        to_field_name="uuid",
    )
    action = forms.ChoiceField(required=False, label="What")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, organization: Organization, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices come from this firm only.
        self.fields["actor"].queryset = Membership.objects.filter(
            organization=organization
        ).select_related("user")
        self.fields["actor"].label_from_instance = lambda m: (
            f"{m.user.name} <{m.user.email}>"
        )
        if kind == "changes":
            self.fields["action"].choices = [
                ("", "Any change"),
                ("0", "Created"),
                ("1", "Updated"),
                ("2", "Deleted"),
            ]
        else:
            self.fields["action"].choices = [("", "Any event"), *AuditAction.choices]
