"""The recurring-schedule form. Choices come from the request's firm and post uuids,
so another firm's client, engagement or template is never a valid choice."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError

from advisoros.widgets import FastSelect
from workflows.forms import ClientWorkForm
from workflows.models import RecurringSchedule
from workflows.services.recurrence import recurrence_rule_parse

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
Frequency = RecurringSchedule.Frequency
# How far back a new schedule may start (the job then catches up on those periods).
MAX_PAST_DAYS = 366


class ScheduleForm(ClientWorkForm):
    field_order = ["client", "engagement", "template"]

    frequency = forms.ChoiceField(
        choices=Frequency.choices, initial=Frequency.MONTHLY, widget=FastSelect
    )
    rrule = forms.CharField(
        label="Rule",
        required=False,
        max_length=300,
        help_text="Only for a custom rule, e.g. FREQ=MONTHLY;BYMONTHDAY=15 or "
        "FREQ=WEEKLY;INTERVAL=2.",
    )
    starts_on = forms.DateField(
        label="First period starts", widget=_DATE, help_text="E.g. the 1st of a month."
    )
    ends_on = forms.DateField(
        label="Last period starts",
        required=False,
        widget=_DATE,
        help_text="Leave empty to go on until paused.",
    )
    create_days_ahead = forms.IntegerField(
        label="Create (days ahead)",
        min_value=0,
        max_value=366,
        initial=14,
        help_text="Each period's workflow appears this many days before it starts.",
    )
    due_days_after_period = forms.IntegerField(
        label="Due (days after the period)",
        min_value=0,
        max_value=366,
        initial=15,
        help_text="The workflow's due date, counted from the period's last day.",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_starts_on(self) -> date:
        starts_on = self.cleaned_data["starts_on"]
        if starts_on < self.today - timedelta(days=MAX_PAST_DAYS):
            raise ValidationError("Start within the last year.")
        return starts_on

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last period cannot start before the first.")
        if data.get("frequency") == Frequency.RRULE:
            if starts_on:
                try:
                    recurrence_rule_parse(data.get("rrule", ""), starts_on=starts_on)
                except ValidationError as exc:
                    self.add_error("rrule", exc.messages[0])
        else:
            data["rrule"] = ""
        return data
