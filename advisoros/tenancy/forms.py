from __future__ import annotations

from django import forms
from django.template.defaultfilters import filesizeformat

from advisoros.tenancy.branding import LOGO_MAX_BYTES, LOGO_TYPES
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
    # The logo is checked here and stored by the view (never a ClearableFileInput:
    # its "currently" link would point into the private store).
    logo = forms.FileField(
        required=False,
        label="Logo",
        help_text=f"PNG or JPEG, at most {filesizeformat(LOGO_MAX_BYTES)}. Shown on "
        "the client portal and its emails.",
        widget=forms.FileInput(attrs={"accept": ",".join(LOGO_TYPES)}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = Organization
        fields = [
            "name",
            "timezone",
            "require_two_factor",
            "assigned_clients_only",
            "session_timeout_minutes",
            "document_retention_years",
            "brand_color",
            "portal_link_days",
            "portal_require_two_factor",
            "audit_checkpoint_email",
        ]
        labels = {
            "session_timeout_minutes": "Sign out after (minutes idle)",
            "document_retention_years": "Keep documents for (years)",
        }
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}

    field_order = [*Meta.fields[:6], "brand_color", "logo", "remove_logo"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    def clean_brand_color(self) -> str:
        return self.cleaned_data["brand_color"].lower()

    def clean_logo(self):
        """PNG or JPEG by what the file holds (its first bytes), whatever its name
        or the browser claims: anything else is refused before it is stored."""
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(
                f"This logo is {filesizeformat(logo.size)}: the limit is "
                f"{filesizeformat(LOGO_MAX_BYTES)}. Save a smaller PNG or JPEG."
            )
        logo.seek(0)
        head = logo.read(8)
        logo.seek(0)
        kind = next(
            (k for k, magic in LOGO_TYPES.items() if head.startswith(magic)), ""
        )
        if not kind:
            raise forms.ValidationError(
                "This file is not a PNG or JPEG image (whatever its name says), so "
                "it was not saved. Choose a PNG or JPEG logo."
            )
        logo.logo_type = kind
        return logo
