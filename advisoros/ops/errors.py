"""Error reports through Sentry (sentry-sdk), only when SENTRY_DSN is set.

Unset, nothing is initialised: no client, no patched handler, nothing sent.
Set, errors and their stack traces are reported without what identifies a
firm's client: `send_default_pii=False` (no user's email or address, no
cookies), no local variables in frames (a form's cleaned data holds tax ids),
no request bodies, and `scrub_event` removes what the integrations may still
attach: the request's body, cookies, query string and credential headers. The
user is named by id only, as in the logs (advisoros.ops.logs).
"""

from __future__ import annotations

from typing import Any

# Headers a request may carry that are credentials or a person's identity.
DROPPED_HEADERS = frozenset(
    {"cookie", "authorization", "x-csrftoken", "proxy-authorization", "x-api-key"}
)


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None) -> dict[str, Any]:
    """before_send: an event leaves with no request body, cookies, query
    string or credential headers, and its user reduced to an id."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in DROPPED_HEADERS
            }
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return event


def sentry_init(
    *, dsn: str, environment: str, release: str, traces_sample_rate: float
) -> None:
    """Called by settings when SENTRY_DSN is set (never otherwise)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
    )
