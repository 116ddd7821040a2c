"""The WSGI application (advisoros.wsgi) sends /webhooks/ through the short
middleware chain of advisoros.webhook_wsgi and every other path through the
site's: driven as gunicorn drives it, an environ in and a response out."""

from __future__ import annotations

import io
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from advisoros.wsgi import application


@contextmanager
def keep_test_connection():
    """As Django's test client does: the handler must not close the test's
    connection (and its transaction) at the start or end of a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(path: str, *, method="GET", body=b"", host="127.0.0.1", **headers):
    environ: dict = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }
    setup_testing_defaults(environ)
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    with keep_test_connection():
        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
    return started["status"], started["headers"], content


def test_a_signed_event_is_received_through_the_short_chain(alpha_stripe, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    event = alpha_stripe.standin.event(
        alpha_stripe.remote, "bench.something", {"id": "x_1", "object": "thing"}
    )
    body, header = alpha_stripe.standin.sign(event, alpha_stripe.remote.webhook_secret)

    status, headers, content = call(
        alpha_stripe.url, method="POST", body=body, stripe_signature=header
    )

    assert status == 200, content
    assert b"Received" in content
    assert [e.event_id for e in alpha_stripe.events()] == [event["id"]]
    # None of the site's browser middleware ran: no session, no CSP, no Vary.
    assert "Set-Cookie" not in headers and "Content-Security-Policy" not in headers
    assert headers.get("X-Content-Type-Options") == "nosniff"  # SecurityMiddleware


def test_a_forged_event_and_a_foreign_host_are_refused(alpha_stripe, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    event = alpha_stripe.standin.event(
        alpha_stripe.remote, "bench.something", {"id": "x_2", "object": "thing"}
    )
    body, _ = alpha_stripe.standin.sign(event, alpha_stripe.remote.webhook_secret)

    forged = call(
        alpha_stripe.url, method="POST", body=body, stripe_signature="t=1,v1=0"
    )
    elsewhere = call(alpha_stripe.url, method="POST", body=body, host="evil.test")

    assert (forged[0], elsewhere[0]) == (400, 400)
    assert alpha_stripe.events() == []


def test_other_paths_keep_the_sites_chain(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]

    status, headers, _ = call("/o/alpha/")

    assert status == 302 and "/accounts/login/" in headers["Location"]
    assert "Content-Security-Policy" in headers
