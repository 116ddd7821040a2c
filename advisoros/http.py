"""Request helpers shared by the core apps."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
