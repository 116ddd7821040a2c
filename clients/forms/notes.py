"""The note form: reminders are typed in the firm's time zone and stored in UTC."""

from __future__ import annotations

from django import forms

from clients.models import Client, Engagement, Note


class NoteForm(forms.ModelForm):
    # Declared, not generated: the generated field would query every firm's
    # engagements at import time. The choices are set per client below.
    engagement = forms.ModelChoiceField(
        queryset=Engagement.objects.none(),
        required=False,
        label="About",
        empty_label="The client (no engagement)",
    )

    class Meta:
        model = Note
        fields = [
            "note_type",
            "body",
            "engagement",
            "is_private",
            "is_pinned",
            "remind_at",
        ]
        labels = {"note_type": "Type", "remind_at": "Remind me at"}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4}),
            "remind_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, client: Client, timezone_name: str, **kwargs):
        """The view parses and shows times in the firm's zone (timezone.override)."""
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = Engagement.objects.filter(
            organization_id=client.organization_id, client=client
        ).order_by("-tax_year", "name")
        self.fields[
            "remind_at"
        ].help_text = f"{timezone_name} time. The reminder is emailed to you."
        self.fields["is_private"].help_text = "Only you will ever see this note."
