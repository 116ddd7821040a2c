"""Emails to a firm's clients, in the firm's look: its name, colour and logo.

Each message has a plain-text body (what every client can read) and an HTML
alternative that wraps the same text in the firm's header. Neither says more
than the text template does: a message about a secure message says only that
one is waiting.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from advisoros.tenancy.branding import brand_palette
from advisoros.tenancy.models import Organization


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def branded_email(
    organization: Organization,
    *,
    subject: str,
    to: list[str],
    text_template: str,
    context: dict,
    reply_to: list[str] | None = None,
    button: tuple[str, str] | None = None,
) -> EmailMultiAlternatives:
    """`button` is (label, absolute URL): the one thing the email asks the reader to do."""
    ctx = {"organization": organization, **context}
    text = render_to_string(text_template, ctx).strip() + "\n"
    html = render_to_string(
        "email/branded.html",
        {
            "organization": organization,
            "palette": brand_palette(organization.brand_color),
            "logo_url": absolute_url(
                reverse("brand_logo", kwargs={"org_slug": organization.slug})
            )
            if organization.logo
            else "",
            "paragraphs": [p for p in text.split("\n\n") if p.strip()],
            "button": button,
            "subject": subject,
        },
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=to,
        reply_to=reply_to or [],
    )
    message.attach_alternative(html, "text/html")
    return message
