"""Form helpers shared by the apps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form


def add_service_errors(form: Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form that called it: each message on
    its field when the form has that field, else among the form's own errors."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def error_text(exc: ValidationError) -> str:
    """A service's ValidationError as one line for a flash message."""
    return " ".join(exc.messages)


def form_error_text(form: Form) -> str:
    """A form's errors as one line for a flash message, where the page that
    posted has no room to show the form again (a row's inline action)."""
    return "; ".join(e for errs in form.errors.values() for e in errs)
