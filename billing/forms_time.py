"""Forms of the time pages: an entry, the timer, and rates.

The choices of clients, engagements and tasks come from the request's firm
(`billing.time_selectors.time_choices`) and post uuids, so another firm's
client, engagement or task is never a valid choice."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from advisoros.tenancy.models import Membership
from advisoros.widgets import FastSelect
from billing.services.time import DAY_MINUTES
from clients.models import Engagement
from workflows.models import Task

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_RATE = {
    "max_digits": 10,
    "decimal_places": 2,
    "min_value": Decimal("0"),
    "widget": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
}

_HOURS_MINUTES = re.compile(r"(\d{1,2})\s*(?::|h)\s*([0-5]?\d)\s*(?:m|min)?")
_HOURS = re.compile(r"(\d{1,3}(?:\.\d{1,4})?)\s*h?")
_MINUTES = re.compile(r"(\d{1,5})\s*m(?:in)?")


def parse_duration(text: str) -> int:
    """Minutes from what a person types: hours (1.5, 1,5, 2h), hours and
    minutes (1:30, 1h 30m) or minutes (90m). A bare number is hours, as on a
    paper timesheet."""
    value = text.strip().lower().replace(",", ".")
    if value.startswith("-"):
        raise ValidationError("Time cannot be negative.")
    if found := _HOURS_MINUTES.fullmatch(value):
        minutes = int(found[1]) * 60 + int(found[2])
    elif found := _MINUTES.fullmatch(value):
        minutes = int(found[1])
    elif found := _HOURS.fullmatch(value):
        try:
            hours = Decimal(found[1])
        except InvalidOperation as exc:  # the pattern admits digits only
            raise ValidationError("Enter the time as 1.5, 1:30 or 90m.") from exc
        minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        raise ValidationError(
            "Enter the time as hours (1.5), hours and minutes (1:30) or minutes (90m)."
        )
    if minutes <= 0:
        raise ValidationError("Enter a time above zero.")
    if minutes > DAY_MINUTES:
        raise ValidationError("One entry holds at most 24 hours.")
    return minutes


def minutes_text(minutes: int | None) -> str:
    """Minutes as h:mm, the way the time pages show them (90 -> 1:30)."""
    minutes = minutes or 0
    return f"{minutes // 60}:{minutes % 60:02d}"


class DurationField(forms.Field):
    """A length of time as a person types it (`parse_duration`), cleaned to minutes."""

    widget = forms.TextInput(attrs={"maxlength": "20", "inputmode": "decimal"})

    def prepare_value(self, value):
        return minutes_text(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if len(value) > 20:
            raise ValidationError("Enter the time as 1.5, 1:30 or 90m.")
        return parse_duration(value)


class TimerForm(forms.Form):
    """What a timer or an entry is for: a client, maybe an engagement and a task."""

    client = forms.ChoiceField(widget=FastSelect)
    engagement = forms.ChoiceField(required=False, widget=FastSelect)
    task = forms.ChoiceField(required=False, widget=FastSelect)
    description = forms.CharField(max_length=500, required=False, label="What was done")
    billable = forms.BooleanField(required=False, initial=True)

    def __init__(
        self,
        *args,
        clients: list[tuple[str, str]],
        engagements: list[Engagement],
        tasks: list[Task],
        client_search: bool = False,
        find: str = "",
        **kwargs,
    ):
        # time_choices' chosen client (one the member sees), or None.
        self.chosen_client = kwargs.pop("client", None)
        super().__init__(*args, **kwargs)
        self.client_search = client_search
        self.find = find
        self._engagements = {str(e.uuid): e for e in engagements}
        self._tasks = {str(t.uuid): t for t in tasks}
        self.fields["client"].choices = [
            (
                "",
                "Choose a client"
                if clients or not client_search
                else "No client matches: search again",
            ),
            *clients,
        ]
        self.fields["engagement"].choices = [
            ("", "No engagement"),
            *((k, e.name) for k, e in self._engagements.items()),
        ]
        self.fields["task"].choices = [
            ("", "No task"),
            *((k, t.title) for k, t in self._tasks.items()),
        ]

    def clean_engagement(self) -> Engagement | None:
        key = self.cleaned_data.get("engagement")
        return self._engagements.get(key) if key else None

    def clean_task(self) -> Task | None:
        key = self.cleaned_data.get("task")
        return self._tasks.get(key) if key else None


class TimeEntryForm(TimerForm):
    date = forms.DateField(widget=_DATE)
    duration = DurationField(label="Time", help_text="1.5 or 1:30 hours, or 90m")

    field_order = [
        "date",
        "client",
        "engagement",
        "task",
        "duration",
        "description",
        "billable",
    ]


class MemberRateForm(forms.Form):
    billing_rate = forms.DecimalField(label="Billing rate", **_RATE)
    cost_rate = forms.DecimalField(label="Cost rate", **_RATE)
    weekly_capacity_hours = forms.IntegerField(
        label="Capacity (hours a week)", min_value=0, max_value=168
    )


class EngagementRateForm(forms.Form):
    member = forms.ChoiceField(required=False, widget=FastSelect, label="Who")
    billing_rate = forms.DecimalField(label="Rate per hour", **_RATE)

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self._members = {str(m.uuid): m for m in members}
        self.fields["member"].choices = [
            ("", "Everyone on this engagement"),
            *((k, m.user.name or m.user.email) for k, m in self._members.items()),
        ]

    def clean_member(self) -> Membership | None:
        key = self.cleaned_data.get("member")
        return self._members.get(key) if key else None
