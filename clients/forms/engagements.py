"""Engagement forms: the list's filters, create/edit, and the letter panel."""

from __future__ import annotations

from django import forms

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization
from advisoros.widgets import FastSelect
from clients.engagement_selectors import (
    ENGAGEMENT_SORTS,
    STATUS_ALL,
    STATUS_OPEN,
    STATUS_OVERDUE,
    EngagementFilters,
)
from clients.models import Engagement, EngagementStatus, EngagementType
from clients.services.engagements import LETTER_MAX_BYTES, ROLE_SLOTS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EngagementFilterForm(forms.Form):
    """Reads the list's filters from the URL. An unknown value (a member who left,
    a mistyped status) is reported and that filter ignored."""

    q = forms.CharField(
        label="Client",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, code, contact…"}
        ),
    )
    # FastSelect: rendered on every list request, where Django's option
    # templates cost milliseconds.
    engagement_type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "All types"), *EngagementType.choices],
        widget=FastSelect,
    )
    status = forms.ChoiceField(
        required=False,
        widget=FastSelect,
        choices=[
            (STATUS_OPEN, "Open"),
            (STATUS_OVERDUE, "Overdue"),
            *EngagementStatus.choices,
            (STATUS_ALL, "All statuses"),
        ],
    )
    tax_year = forms.IntegerField(
        label="Year",
        required=False,
        min_value=1990,
        max_value=2100,
        widget=forms.NumberInput(attrs={"placeholder": "Any"}),
    )
    partner = forms.ChoiceField(required=False, widget=FastSelect)
    manager = forms.ChoiceField(required=False, widget=FastSelect)
    preparer = forms.ChoiceField(required=False, widget=FastSelect)
    mine = forms.BooleanField(label="My engagements", required=False)
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, label) for k, (_, _, label) in ENGAGEMENT_SORTS.items()],
        widget=FastSelect,
    )

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self._user_ids = {str(m.user.uuid): m.user_id for m in members}
        people = [(str(m.user.uuid), str(m.user)) for m in members]
        for slot in ("partner", "manager", "preparer"):
            self.fields[slot].choices = [("", "Anyone"), *people]

    def filters(self) -> EngagementFilters:
        """The valid filters (call after is_valid())."""
        data = self.cleaned_data
        return EngagementFilters(
            q=data.get("q") or "",
            engagement_type=data.get("engagement_type") or "",
            status=data.get("status") or STATUS_OPEN,
            tax_year=data.get("tax_year"),
            partner=self._user_ids.get(data.get("partner") or ""),
            manager=self._user_ids.get(data.get("manager") or ""),
            preparer=self._user_ids.get(data.get("preparer") or ""),
            mine=bool(data.get("mine")),
            sort=data.get("sort") or "due",
        )

    def url_params(self) -> dict:
        """The valid filters as they appear in the URL (for paging links)."""
        data = self.cleaned_data
        params = {
            name: data.get(name)
            for name in self.fields
            if name != "mine" and data.get(name) not in (None, "")
        }
        if params.get("sort") == "due":
            del params["sort"]
        if data.get("mine"):
            params["mine"] = "1"
        return params


def active_member_users(organization: Organization):
    return User.objects.filter(
        memberships__organization=organization, memberships__is_active=True
    ).order_by("name", "email")


class EngagementForm(forms.ModelForm):
    class Meta:
        model = Engagement
        fields = [
            "name",
            "engagement_type",
            "tax_year",
            "period_start",
            "period_end",
            "status",
            "priority",
            "start_date",
            "due_date",
            "completed_date",
            "fee_model",
            "hourly_rate",
            "fee_amount",
            "budgeted_hours",
            *ROLE_SLOTS,
        ]
        labels = {"engagement_type": "Type", "fee_amount": "Fee / retainer amount"}
        help_texts = {
            "tax_year": "For a tax return: the year it covers.",
            "completed_date": "Set when the status is Completed (today if left empty).",
            "hourly_rate": "Needed for an hourly engagement.",
            "fee_amount": "Needed for a fixed fee or a retainer.",
        }
        widgets = {
            "period_start": _DATE,
            "period_end": _DATE,
            "start_date": _DATE,
            "due_date": _DATE,
            "completed_date": _DATE,
        }

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        members = active_member_users(organization)
        for slot in ROLE_SLOTS:
            field = self.fields[slot]
            field.queryset = members
            field.empty_label = "Nobody yet"
            field.error_messages["invalid_choice"] = (
                "Choose an active member of the firm."
            )


class EngagementLetterForm(forms.Form):
    letter = forms.FileField(
        label="Engagement letter (PDF)",
        help_text=f"A PDF of at most {LETTER_MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={
            "required": "Choose the PDF of the engagement letter.",
            "empty": "The file is empty.",
        },
    )


class EngagementLetterAcceptForm(forms.Form):
    accepted_by_name = forms.CharField(
        label="Signed by",
        max_length=200,
        help_text="The name of the client's signer, as on the signed letter.",
        error_messages={
            "required": "Type the name of the person who signed the letter."
        },
    )
