"""A PostgreSQL restart under load: requests fail fast with a friendly page while
the server is down, service comes back by itself, and nothing that was
acknowledged is lost.

The app runs in gunicorn (two workers, DEBUG off, persistent connections with
health checks) against a PostgreSQL server of the test's own. A thread keeps
sending reads (the client list) and writes (a note, each with its own body)
while the server is stopped with `pg_ctl stop -m fast` (in-flight sessions are
cut), held down until requests have met the outage, then started again.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

from tests.faults.servers import gunicorn, manage

pytestmark = pytest.mark.slow

FRIENDLY = "We could not reach the database; try again in a moment"
CONNECT_TIMEOUT = 3
DEADLINE_SECONDS = 60

SEED = """
from django.test import Client as Browser
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role
from tests.factories import make_client, make_user
with platform_bypass():
    firm = Organization.objects.create(name="Restart Firm", slug="restart")
    owner = make_user("owner@restart.test", "Rae Owner")
    Membership.objects.create(organization=firm, user=owner, role=Role.OWNER)
client = make_client(firm, "Probe Client")
browser = Browser()
browser.force_login(owner)
print("SEEDED", browser.cookies["sessionid"].value, client.uuid)
"""


@dataclass
class Answer:
    kind: str  # "read" or "write"
    status: int  # 0: no HTTP answer at all
    seconds: float
    body: str
    note: str = ""  # the write's note body


class Load(threading.Thread):
    """Alternating reads and writes, one at a time, until stopped."""

    def __init__(self, base: str, session: str, client_uuid: str) -> None:
        super().__init__(daemon=True)
        self.port = int(base.rsplit(":", 1)[1])
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked secret
        self.cookie = f"sessionid={session}; csrftoken={self.csrf}"
        self.client_uuid = client_uuid
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.n = 0

    def request(self, kind: str) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie, "Host": "127.0.0.1"}
        note = ""
        started = time.monotonic()
        try:
            if kind == "read":
                connection.request("GET", "/o/restart/clients/", headers=headers)
            else:
                self.n += 1
                note = f"restart probe {self.n} {secrets.token_hex(4)}"
                body = f"note_type=general&body={note.replace(' ', '+')}"
                connection.request(
                    "POST",
                    f"/o/restart/clients/{self.client_uuid}/notes/new/",
                    body=body,
                    headers={
                        **headers,
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-CSRFToken": self.csrf,
                    },
                )
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status, text = 0, repr(exc)
        finally:
            connection.close()
        return Answer(kind, status, time.monotonic() - started, text, note)

    def run(self) -> None:
        while not self.stopping.is_set():
            for kind in ("read", "write"):
                self.answers.append(self.request(kind))

    def since(self, index: int) -> list[Answer]:
        return self.answers[index:]


def _wait(condition, what: str, load: Load, timeout: float = DEADLINE_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    seen = [(a.kind, a.status, round(a.seconds, 2)) for a in load.answers[-20:]]
    pytest.fail(f"{what}: not within {timeout} s; the last answers: {seen}")


def test_requests_fail_fast_and_friendly_while_postgres_restarts_and_nothing_acknowledged_is_lost(
    postgres_server, tmp_path
):
    server, app_url = postgres_server
    seeded = manage(app_url, "shell", "-c", SEED).split("SEEDED", 1)[1].split()
    session, client_uuid = seeded
    url = f"{app_url}?connect_timeout={CONNECT_TIMEOUT}"

    with gunicorn(url, tmp_path / "gunicorn.log", DB_CONN_MAX_AGE="60") as base:
        load = Load(base, session, client_uuid)
        load.start()
        try:
            _wait(
                lambda: sum(a.status == 302 for a in load.answers) >= 3,
                "writes before the restart",
                load,
            )
            before = len(load.answers)
            server.stop("fast")  # cuts the sessions of requests in flight
            _wait(
                lambda: sum(a.status == 503 for a in load.since(before)) >= 4,
                "friendly answers while the database is down",
                load,
            )
            server.start()
            up_again = len(load.answers)
            _wait(
                lambda: {a.status for a in load.since(up_again)} >= {200, 302},
                "reads and writes succeeding again",
                load,
            )
            after = len(load.answers)
            _wait(lambda: len(load.answers) >= after + 6, "load after recovery", load)
        finally:
            load.stopping.set()
            load.join(timeout=DEADLINE_SECONDS)

    answers = load.answers
    statuses = {a.status for a in answers}
    assert statuses <= {200, 302, 503}, [
        (a.kind, a.status, a.body[:300])
        for a in answers
        if a.status not in (200, 302, 503)
    ]
    outage = [a for a in answers if a.status == 503]
    for answer in outage:
        assert FRIENDLY in answer.body
        assert "Traceback" not in answer.body
    # Fast: refused at once while the server is down, else within the connect timeout.
    assert max(a.seconds for a in outage) < CONNECT_TIMEOUT + 5
    # After the restart everything answered (the health checks replaced the
    # connections the restart had cut).
    tail = answers[after:]
    assert tail and all(a.status in (200, 302) for a in tail), [
        (a.kind, a.status) for a in tail
    ]
    # Every write the app acknowledged (the redirect after saving) is there.
    acknowledged = {a.note for a in answers if a.kind == "write" and a.status == 302}
    with psycopg.connect(server.url("advisoros")) as admin:
        stored = {
            row[0]
            for row in admin.execute(
                "SELECT body FROM clients_note WHERE body LIKE 'restart probe %%'"
            )
        }
    assert len(acknowledged) >= 6
    assert acknowledged <= stored
