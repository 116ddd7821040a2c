"""The form of a secure message, on both sides (portal and firm).

The files are not a form field: they arrive through documents.receiving's
upload handler and go to message_send, which checks them. The form's own
errors (not a field's) are the files' refusals, shown beside the file input.
"""

from __future__ import annotations

import uuid

from django import forms

from portal.services.messages import BODY_MAX


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": BODY_MAX}),
    )
    # One per form shown: a second submit of the same form sends nothing more.
    upload_token = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput
    )

    def __init__(self, *args, has_files: bool = False, **kwargs) -> None:
        kwargs.setdefault("initial", {"upload_token": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
        self.has_files = has_files

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("body") and not self.has_files and "body" not in self.errors:
            self.add_error("body", "Write a message or attach a file.")
        return data
