"""Forms of the client list (filters, bulk actions) and the create/edit page."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence

from django import forms

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization
from advisoros.widgets import FastSelect
from clients.models import Client, ClientStatus, EntityType, Tag
from clients.selectors import CLIENT_SORTS

ASSIGNMENT_ROLES = [("partner", "Partner"), ("manager", "Manager"), ("staff", "Staff")]
CLEAR = "none"


def _member_label(user: User) -> str:
    return user.name or user.email


class ClientFilterForm(forms.Form):
    """Renders the list's filters (the search box is in the template, with its
    htmx attributes); `ClientFilters.from_query` reads them."""

    # FastSelect: rendered on every list request, where Django's option
    # templates cost milliseconds.
    status = forms.ChoiceField(required=False, widget=FastSelect)
    entity_type = forms.ChoiceField(required=False, label="Type", widget=FastSelect)
    assigned = forms.ChoiceField(required=False, label="Assigned to", widget=FastSelect)
    tag = forms.ChoiceField(required=False, widget=FastSelect)
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, v[2]) for k, v in CLIENT_SORTS.items()],
        widget=FastSelect,
    )

    def __init__(
        self,
        *args,
        members: Sequence[Membership],
        tags: Sequence[Tag],
        list_url: str,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Each select asks for the results itself when it changes (a form-wide
            # "change" trigger would also fire when the search box loses focus,
            # racing a click on a page link).
            field.widget.attrs.update(
                {
                    "hx-get": list_url,
                    "hx-include": "closest form",
                    "hx-sync": "closest form:replace",
                }
            )
        self.fields["status"].choices = [
            ("", "Open (not archived)"),
            *ClientStatus.choices,
            ("all", "All, with archived"),
        ]
        self.fields["entity_type"].choices = [("", "Any type"), *EntityType.choices]
        self.fields["assigned"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            *((str(m.user.uuid), _member_label(m.user)) for m in members),
        ]
        self.fields["tag"].choices = [
            ("", "Any tag"),
            *((str(t.uuid), t.name) for t in tags),
        ]


class UUIDListField(forms.Field):
    """Checked rows: the valid uuids among the posted values (others are dropped)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Select at least one client."}

    def to_python(self, value) -> list[uuid.UUID]:
        uuids = []
        for item in value or ():
            try:
                uuids.append(uuid.UUID(str(item)))
            except ValueError:
                continue
        return uuids


class ClientBulkForm(forms.Form):
    ASSIGN, TAG, ARCHIVE = "assign", "tag", "archive"

    action = forms.ChoiceField(
        choices=[(ASSIGN, "Assign"), (TAG, "Add tag"), (ARCHIVE, "Archive")]
    )
    clients = UUIDListField()
    role = forms.ChoiceField(choices=ASSIGNMENT_ROLES, required=False, label="As")
    assignee = forms.ChoiceField(required=False, label="Assign to")
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, to_field_name="uuid"
    )
    new_tag = forms.CharField(
        max_length=50,
        required=False,
        label="or a new tag",
        widget=forms.TextInput(attrs={"placeholder": "New tag"}),
    )

    def __init__(
        self,
        *args,
        organization: Organization,
        members: Sequence[Membership],
        tags: Sequence[Tag] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self._members = {str(m.user.uuid): m.user for m in members if m.is_active}
        self.fields["assignee"].choices = [
            ("", "Choose…"),
            *((key, _member_label(user)) for key, user in self._members.items()),
            (CLEAR, "Nobody (clear)"),
        ]
        tag_field = self.fields["tag"]
        tag_field.queryset = Tag.objects.filter(organization=organization)
        tag_field.empty_label = "Choose a tag…"
        if tags is not None:
            # Rendering only: the list already loaded the firm's tags.
            tag_field.choices = [
                ("", tag_field.empty_label),
                *((str(t.uuid), t.name) for t in tags),
            ]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == self.ASSIGN:
            if not data.get("role"):
                self.add_error("role", "Choose partner, manager or staff.")
            assignee = data.get("assignee")
            if not assignee:
                self.add_error("assignee", "Choose a member, or Nobody to clear.")
            else:
                data["assignee"] = (
                    None if assignee == CLEAR else self._members[assignee]
                )
        elif action == self.TAG:
            data["new_tag"] = (data.get("new_tag") or "").strip()
            if not data.get("tag") and not data["new_tag"]:
                self.add_error("tag", "Choose a tag or type a new one.")
        return data


MONTHS = [(n, calendar.month_name[n]) for n in range(1, 13)]

SECTIONS: list[tuple[str, list[str]]] = [
    (
        "Identity",
        [
            "display_name",
            "legal_name",
            "client_code",
            "entity_type",
            "status",
            "risk_level",
            "industry",
        ],
    ),
    (
        "Tax",
        ["tax_id", "clear_tax_id", "fiscal_year_end_month", "fiscal_year_end_day"],
    ),
    ("Contact details", ["email", "phone", "website"]),
    (
        "Address",
        [
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
        ],
    ),
    ("Assignment", ["partner", "manager", "staff"]),
    ("Tags", ["tags"]),
]


class ClientForm(forms.ModelForm):
    """Validates what was typed; `client_create`/`client_update` check the rest
    (tax id format, code taken, assignees) and their errors land on the fields."""

    # Never bound to the stored value: the page must not carry the full tax id.
    tax_id = forms.CharField(
        label="Tax id (SSN, ITIN or EIN)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    clear_tax_id = forms.BooleanField(label="Remove the stored tax id", required=False)
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Client
        fields = [
            "display_name",
            "legal_name",
            "client_code",
            "entity_type",
            "status",
            "risk_level",
            "industry",
            "fiscal_year_end_month",
            "fiscal_year_end_day",
            "email",
            "phone",
            "website",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "partner",
            "manager",
            "staff",
        ]
        labels = {
            "fiscal_year_end_month": "Fiscal year ends (month)",
            "fiscal_year_end_day": "Fiscal year ends (day)",
        }
        widgets = {"fiscal_year_end_month": forms.Select(choices=MONTHS)}

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        client: Client = self.instance
        code = self.fields["client_code"]
        code.required = False
        code.help_text = "Leave blank to get one made from the name, e.g. SMITH-J."
        members = User.objects.filter(
            memberships__organization=organization, memberships__is_active=True
        ).order_by("name", "email")
        for name in ("partner", "manager", "staff"):
            field = self.fields[name]
            field.queryset = members
            field.label_from_instance = _member_label
            field.empty_label = "Nobody"
        self.fields["tags"].queryset = Tag.objects.filter(organization=organization)
        status = self.fields["status"]
        if client.is_archived:
            status.disabled = True
            status.help_text = "Restore the client to change its status."
        else:
            status.choices = [
                c for c in status.choices if c[0] != ClientStatus.ARCHIVED
            ]
        tax_id = self.fields["tax_id"]
        if client.pk and client.tax_id_last4:
            tax_id.widget.attrs["placeholder"] = client.tax_id_masked
            tax_id.help_text = (
                f"On file: {client.tax_id_masked}. Leave blank to keep it; "
                "type a new one to replace it."
            )
        else:
            tax_id.widget.attrs["placeholder"] = "123-45-6789 or 12-3456789"
            del self.fields["clear_tax_id"]
        if client.pk:
            self.initial["tags"] = list(client.tags.all())

    def validate_constraints(self) -> None:
        """The service checks the client code and names the field in its error."""

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in SECTIONS
        ]

    def client_data(self) -> dict:
        """The model fields for the service; the tax id only when it changes."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        if self.instance.is_archived:
            data.pop("status")
        typed = self.cleaned_data["tax_id"].strip()
        if typed or not self.instance.pk:
            data["tax_id"] = typed
        elif self.cleaned_data.get("clear_tax_id"):
            data["tax_id"] = ""
        return data
