"""Intuit's OAuth 2.0 through intuit-oauth (`intuitlib.AuthClient`).

`AuthClient` is a `requests.Session` whose constructor fetches Intuit's
discovery document, and neither that fetch nor its token calls carry a
timeout. So it is never built at import, only when a token is needed
(`auth_client()`), as `_TimedAuthClient`: the same class with every request
given settings.QUICKBOOKS_TIMEOUT_SECONDS, and the discovery document kept
per process after the first fetch (it names the endpoints, which change only
with the environment). `INTUIT_ENVIRONMENT` is "sandbox", "production" or a
discovery URL (the library's own rule), which is how the tests point it at the
stand-in (tests/standins/intuit.py).

The token endpoint's errors come back as `AuthClientError`; `invalid_grant`
(a revoked, expired or already rotated refresh token, or a used code) is the
one that means "sign in to Intuit again" (`is_invalid_grant`).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

SCOPES = [Scopes.ACCOUNTING]
DISCOVERY = {
    "sandbox": "https://developer.intuit.com/.well-known/openid_sandbox_configuration/",
    "production": "https://developer.intuit.com/.well-known/openid_configuration/",
}
API_BASES = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}

__all__ = ["AuthClientError", "auth_client", "intuit_enabled", "is_invalid_grant"]

# Discovery URL -> its answer, fetched once per process.
_discovered: dict[str, requests.Response] = {}
_discovered_lock = threading.Lock()


def intuit_enabled() -> bool:
    """Our app's keys at Intuit are configured (settings refuse half a set)."""
    return bool(settings.INTUIT_CLIENT_ID)


def discovery_url() -> str:
    env = settings.INTUIT_ENVIRONMENT
    return DISCOVERY.get(env.lower(), env)


def authorization_origin() -> str:
    """Where the Connect button's answer sends the browser (Intuit's consent
    page), for the page's Content-Security-Policy form-action; known without
    fetching the discovery document."""
    url = discovery_url()
    if settings.INTUIT_ENVIRONMENT.lower() in DISCOVERY:
        return "https://appcenter.intuit.com"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def api_base() -> str:
    """The accounting API's address for the configured environment."""
    base = settings.INTUIT_API_BASE or API_BASES.get(
        settings.INTUIT_ENVIRONMENT.lower(), ""
    )
    return base.rstrip("/")


class _TimedAuthClient(AuthClient):
    """AuthClient with a timeout on every request and the discovery document
    remembered per process (the constructor asks for it every time)."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        kwargs.setdefault("timeout", settings.QUICKBOOKS_TIMEOUT_SECONDS)
        if method.upper() == "GET" and url == discovery_url():
            with _discovered_lock:
                found = _discovered.get(url)
            if found is not None:
                return found
            response = super().request(method, url, *args, **kwargs)
            if response.status_code == 200:
                response.json()  # read now: the answer is shared between threads
                with _discovered_lock:
                    _discovered[url] = response
            return response
        return super().request(method, url, *args, **kwargs)


def auth_client(*, state_token: str | None = None) -> AuthClient:
    """A fresh AuthClient for one flow (it holds that flow's tokens, so it is
    never shared between threads). Asks for the refresh token's hard expiry."""
    if not intuit_enabled():
        raise AuthClientNotConfigured(
            "QuickBooks is not turned on: set INTUIT_CLIENT_ID, "
            "INTUIT_CLIENT_SECRET and INTUIT_REDIRECT_URI."
        )
    client = _TimedAuthClient(
        settings.INTUIT_CLIENT_ID,
        settings.INTUIT_CLIENT_SECRET,
        settings.INTUIT_REDIRECT_URI,
        discovery_url(),
        state_token=state_token,
    )
    client.include_refresh_token_hard_expires_in = True
    return client


class AuthClientNotConfigured(Exception):
    pass


def error_code(exc: AuthClientError) -> str:
    """The OAuth error code of a token endpoint's refusal ("invalid_grant")."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def is_invalid_grant(exc: AuthClientError) -> bool:
    return exc.status_code in (400, 401) and error_code(exc) == "invalid_grant"
