from __future__ import annotations

from django import forms

from advisoros.tenancy.models import Organization, Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.STAFF)

    def __init__(self, *args, can_grant_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_grant_owner:
            self.fields["role"].choices = [
                c for c in Role.choices if c[0] != Role.OWNER
            ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class OrganizationSettingsForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "timezone",
            "require_two_factor",
            "assigned_clients_only",
            "session_timeout_minutes",
            "document_retention_years",
        ]
        labels = {
            "session_timeout_minutes": "Sign out after (minutes idle)",
            "document_retention_years": "Keep documents for (years)",
        }
