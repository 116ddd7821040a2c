"""Form widgets for pages rendered on every request, where Django's are slow."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class FastSelect(forms.Select):
    """A <select> rendered in Python, with the same HTML as Django's.

    Django renders every option of a Select through two templates (about 80
    microseconds an option on a small server): a list's filter bar with five
    selects, members and tags spends milliseconds there on each request.
    Option groups fall back to Django's rendering.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        choices = list(self.choices)
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        wanted = set(self.format_value(value))
        options, selected_one = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not selected_one and option_value in wanted
            selected_one = selected_one or selected
            options.append((option_value, " selected" if selected else "", label))
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            format_html_join("", '<option value="{}"{}>{}</option>', options),
        )
