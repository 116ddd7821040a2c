"""Account forms: they validate and normalise, nothing more."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from advisoros.accounts.models import User, normalize_email
from advisoros.tenancy.models import Organization
from advisoros.tenancy.services import RESERVED_SLUGS


class PasswordPairMixin(forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Repeat password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            candidate = User(
                email=cleaned.get("email", ""), name=cleaned.get("name", "")
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class FirmFieldsMixin(forms.Form):
    firm_name = forms.CharField(label="Firm name", max_length=200)
    slug = forms.SlugField(
        label="Web address",
        max_length=50,
        required=False,
        help_text="Your firm's pages live at /o/<address>/. Leave empty to derive it from the name.",
    )

    def clean_slug(self):
        slug = (self.cleaned_data.get("slug") or "").lower()
        if slug and (
            slug in RESERVED_SLUGS or Organization.objects.filter(slug=slug).exists()
        ):
            raise forms.ValidationError("This address is taken. Choose another.")
        return slug


class SignupForm(FirmFieldsMixin, PasswordPairMixin):
    name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Work email")
    field_order = ["firm_name", "slug", "name", "email", "password1", "password2"]

    def clean_email(self):
        # Whether the address has an account is never said here: the email
        # sign-up sends tells its owner (advisoros.accounts.signup).
        return normalize_email(self.cleaned_data["email"])


class FirmCreateForm(FirmFieldsMixin):
    pass


class InvitationSignupForm(PasswordPairMixin):
    name = forms.CharField(label="Your name", max_length=150)
    field_order = ["name", "password1", "password2"]


class OTPCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )

    def clean_code(self):
        return (
            self.cleaned_data["code"].replace(" ", "").replace("-", "").strip().lower()
        )


class DisableTwoFactorForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not correct.")
        return password
