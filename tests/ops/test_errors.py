"""Error reports: nothing without SENTRY_DSN; with it, events leave scrubbed.

The scrubbing is proved end to end: the real sentry-sdk, initialised by the
settings module from SENTRY_DSN in a process of its own, sends to a local
stand-in of Sentry's ingestion endpoint, which keeps what arrives.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.conf import settings

from advisoros.ops.errors import scrub_event

TAX_ID = "123-45-6789"
SESSION = "s3ss10n-c00k1e-value"


def test_without_a_dsn_nothing_is_initialised():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


def _django_like_event() -> dict:
    """What sentry-sdk's Django integration attaches to an error in a view."""
    return {
        "message": "Client save failed",
        "level": "error",
        "request": {
            "url": f"https://advisoros.example.com/o/alpha/clients/?q={TAX_ID}",
            "method": "POST",
            "query_string": f"q={TAX_ID}",
            "data": {"display_name": "Jane Doe", "tax_id": TAX_ID},
            "cookies": {"sessionid": SESSION},
            "headers": {
                "Cookie": f"sessionid={SESSION}",
                "X-CSRFToken": "csrf-token-value",
                "User-Agent": "Mozilla/5.0",
            },
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": "42", "email": "jane@client.test", "ip_address": "203.0.113.9"},
    }


def test_an_event_loses_the_body_cookies_query_and_credentials():
    event = scrub_event(_django_like_event(), None)

    assert event["request"] == {
        "url": "https://advisoros.example.com/o/alpha/clients/",
        "method": "POST",
        "headers": {"User-Agent": "Mozilla/5.0"},
    }
    assert event["user"] == {"id": "42"}


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_standin():
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Ingest.received
    server.shutdown()
    server.server_close()


SENDER = """
import json, sys
import sentry_sdk
import advisoros.settings  # initialises Sentry from SENTRY_DSN
sentry_sdk.capture_event(json.loads(sys.stdin.read()))
sentry_sdk.flush(timeout=5)
"""


def test_with_a_dsn_events_reach_sentry_scrubbed(sentry_standin):
    port, received = sentry_standin
    env = {
        **os.environ,
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1",
        "DJANGO_DEBUG": "true",
    }

    # The project's own interpreter and settings, a fixed script.
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", SENDER],
        input=json.dumps(_django_like_event()).encode(),
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        timeout=60,
    )

    sent = b"".join(received).decode()
    assert "Client save failed" in sent
    assert TAX_ID not in sent
    assert SESSION not in sent
    assert "csrf-token-value" not in sent
    assert "jane@client.test" not in sent
