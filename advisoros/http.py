"""Request helpers shared by the core apps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.utils.safestring import SafeString


def get_only(request: HttpRequest) -> HttpResponse | None:
    """405 for a read-only page's other methods, or None for GET and HEAD.

    Called after the page's object was looked up, so that another firm's object
    answers 404 to every method, never a 405 that would tell it exists."""
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def wants_json(request: HttpRequest) -> bool:
    """Whether the caller is our own script asking for JSON (board.js, upload.js).

    A plain form, the keyboard and no-JavaScript fallback, accepts HTML and gets
    a redirect with a message instead."""
    return request.accepts("application/json") and not request.accepts("text/html")


def csrf_field(request: HttpRequest) -> SafeString:
    """The CSRF hidden input, rendered once for a page's many small forms (rows
    built in Python, where the template tag is not at hand)."""
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
        get_token(request),
    )


def is_uuid(value: str) -> bool:
    """Whether a query parameter can name an object by its uuid (a forged or
    mistyped one is ignored rather than sent to the database)."""
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    With TRUSTED_PROXY_COUNT = n, the proxies in front of us appended the last
    n entries; the one before them is the client. Anything further left was
    written by the client and may be forged, so it is never used.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        p.strip()
        for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if p.strip()
    ]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]


def client_ip_for_axes(request: HttpRequest) -> str:
    return client_ip(request) or ""
