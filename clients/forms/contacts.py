"""Contact forms: a new person for a client, an edit, and a link to an existing one."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from clients.models import Contact, ContactRole
from clients.services.contacts import contact_with_email


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "title"]

    def __init__(
        self, *args, organization_id: int, visible_contacts: QuerySet[Contact], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.instance.organization_id = organization_id
        self.visible_contacts = visible_contacts

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        existing = contact_with_email(
            organization_id=self.instance.organization_id,
            email=email,
            exclude=self.instance if self.instance.pk else None,
        )
        if existing is not None:
            # Name the person only to a member who may see them.
            if self.visible_contacts.filter(pk=existing.pk).exists():
                raise forms.ValidationError(
                    f"A contact with this email already exists: "
                    f"{existing.full_name} — link them instead."
                )
            raise forms.ValidationError("A contact with this email already exists.")
        return email


class ContactCreateForm(ContactForm):
    role = forms.ChoiceField(
        label="Role for this client",
        choices=ContactRole.choices,
        initial=ContactRole.PRIMARY,
    )


class ContactLinkForm(forms.Form):
    """Link an existing person: the choices are this firm's contacts the member sees."""

    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), to_field_name="uuid"
    )
    role = forms.ChoiceField(choices=ContactRole.choices, initial=ContactRole.PRIMARY)

    def __init__(self, *args, visible_contacts: QuerySet[Contact], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = visible_contacts


class ContactSearchForm(forms.Form):
    find = forms.CharField(
        label="Find a contact of the firm",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": "Name or email", "type": "search"}
        ),
    )
