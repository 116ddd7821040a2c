"""The WSGI handler for /webhooks/: providers' signed deliveries, no browser.

A webhook is authenticated by its signature, not by a session, and answered
with JSON, never a page: the sessions, CSRF, authentication, two-factor,
messages, htmx, idle-timeout, audit context, tenancy, portal and lockout
middleware of the site (settings.MIDDLEWARE) have nothing to do for it, yet
cost a fifth of an event's time (bench/stripe_webhooks.py). advisoros.wsgi
sends every path under WEBHOOK_PREFIX here, to the same URLs and views through
a short chain:

- RequestIdMiddleware (the request's id in its log lines and the answer),
- SecurityMiddleware (its headers; HTTPS redirect where configured),
- OutageMiddleware (a database outage answers 503, so the provider retries),
- RefuseNulMiddleware (a NUL in the request: 400),
- WebhookRequestMiddleware (below): the Host header checked against
  ALLOWED_HOSTS, and the request started with no database context
  (advisoros.tenancy.db.request_start), as the tenancy middleware does for
  every other request.

Each view enters its firm's context itself (integrations.*.webhooks).
`./manage.py runserver` and the test client keep the full chain (they do not
read advisoros.wsgi); tests/test_webhook_wsgi.py drives this one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from advisoros.tenancy.db import request_start

WEBHOOK_PREFIX = "/webhooks/"

WEBHOOK_MIDDLEWARE = (
    # The delivery's id for its log lines, echoed (advisoros.ops.logs).
    "advisoros.ops.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "advisoros.outage.OutageMiddleware",
    "advisoros.security.RefuseNulMiddleware",
    "advisoros.webhook_wsgi.WebhookRequestMiddleware",
)


class WebhookRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.get_host()  # DisallowedHost (400) for a host not ours
        with request_start():
            return self.get_response(request)


class WebhookWSGIHandler(WSGIHandler):
    """Django's WSGI handler with WEBHOOK_MIDDLEWARE for its middleware (sync
    only: gunicorn's sync workers)."""

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ValueError("The webhook handler is synchronous.")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(WEBHOOK_MIDDLEWARE):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


def site_with_webhooks(site: WSGIHandler):
    """The WSGI application: /webhooks/ through the short chain, the rest of
    the site through `site` (settings.MIDDLEWARE)."""
    webhooks = WebhookWSGIHandler()

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
            return webhooks(environ, start_response)
        return site(environ, start_response)

    return application
