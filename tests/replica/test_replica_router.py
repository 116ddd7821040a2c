"""The read replica router against a real streaming replica.

A PostgreSQL primary of the test's own and a hot standby made from it with
`pg_basebackup -R` run on loopback (tests/faults/servers.py). The primary gets
the schema of the suite's test database (copied with pg_dump: running every
migration again would take minutes), its owner's migrate then stores the proof
key and the grants, and a small cast is seeded: Alpha (Ann the owner, Bea an
admin) and Beta (Ben), each with a client. The app runs in gunicorn with
DATABASE_URL on the primary and DATABASE_REPLICA_URL on the standby, both as
the app role.

Which database served a page is made visible by pausing the standby's replay:
what was written afterwards is on the primary only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from advisoros.tenancy.replica import PIN_COOKIE
from advisoros.tenancy.rls import tenant_proof
from tests.faults.servers import (
    PostgresServer,
    _bindir,
    _devdb,
    gunicorn,
    manage,
    own_postgres,
    own_standby,
)

# django_db: the suite's test database must exist (its schema is copied).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("replica"),
    pytest.mark.django_db,
]

REPLICATOR = "replicator"
DEADLINE_SECONDS = 30

SEED = """
import json
from django.core.management import call_command
from django.test import Client as Browser
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role
from tests.factories import make_client, make_user
# Nothing to apply (the schema is copied): stores the proof key, grants the app role.
call_command("migrate", interactive=False, verbosity=0)
with platform_bypass():
    alpha = Organization.objects.create(name="Replica Alpha", slug="replica-alpha")
    beta = Organization.objects.create(name="Replica Beta", slug="replica-beta")
    people = {}
    for email, name, firm, role in (
        ("ann@alpha.test", "Ann Owner", alpha, Role.OWNER),
        ("bea@alpha.test", "Bea Admin", alpha, Role.ADMIN),
        ("ben@beta.test", "Ben Owner", beta, Role.OWNER),
    ):
        people[name.split()[0].lower()] = make_user(email, name)
        Membership.objects.create(
            organization=firm, user=people[name.split()[0].lower()], role=role
        )
alpha_client = make_client(alpha, "Alpha Client")
beta_client = make_client(beta, "Beta Client")
sessions = {}
for key in ("ann", "bea"):
    browser = Browser()
    browser.force_login(people[key])
    sessions[key] = browser.cookies["sessionid"].value
print("SEEDED" + json.dumps({
    "sessions": sessions,
    "alpha": alpha.pk,
    "beta": beta.pk,
    "alpha_client": str(alpha_client.uuid),
    "beta_client": str(beta_client.uuid),
}))
"""

# The router and the replica's settings, inside the app (DATABASE_REPLICA_URL set).
ROUTER_PROBE = """
import json
from django.db import connections, router
from django_scopes import scopes_disabled
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from advisoros.tenancy.replica import replica_reads
from clients.models import Client

def replica_state():
    with connections["replica"].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.organization_id', true), pg_is_in_recovery()"
        )
        return list(cursor.fetchone())

with platform_bypass():
    alpha = Organization.objects.get(slug="replica-alpha")
out = {"unused": replica_state()}
with tenant_context(alpha):
    with replica_reads():
        out["routed"] = router.db_for_read(Client)
        out["names"] = sorted(Client.objects.values_list("display_name", flat=True))
        out["during"] = replica_state()
        client = Client.objects.get(display_name="Alpha Client")
        out["loaded_from"] = client._state.db
        out["write_to"] = router.db_for_write(Client, instance=client)
        client.save(update_fields=["display_name"])
        out["after_write"] = router.db_for_read(Client)
    out["after"] = replica_state()
    out["outside_reads"] = router.db_for_read(Client)
with scopes_disabled(), replica_reads():
    out["no_context_names"] = list(Client.objects.values_list("display_name", flat=True))
    out["no_context_routed"] = router.db_for_read(Client)
print("PROBE" + json.dumps(out))
"""


@dataclass
class Pair:
    primary: PostgresServer
    standby: PostgresServer
    app_url: str  # the app role on the primary
    replica_url: str  # the app role on the standby
    seeded: dict
    base: str  # gunicorn


def _suite_schema(folder: Path) -> Path:
    """The suite's test database (migrated by pytest-django) as SQL: its schema,
    and the migrations table's rows so that migrate has nothing left to do."""
    params = connections["default"].get_connection_params()
    owner = settings.DATABASE_OWNER
    env = {**os.environ, "PGPASSWORD": owner.get("PASSWORD") or ""}
    target = [
        f"--host={params.get('host') or '127.0.0.1'}",
        f"--port={params.get('port') or 5432}",
        f"--username={owner['USER']}",
        f"--dbname={params['dbname']}",
    ]
    out = folder / "schema.sql"
    with out.open("w") as sql:
        # Loads pg_trgm, whose setting a search function sets: an ordinary
        # role may set it only once the extension is loaded (migrate had it so).
        sql.write("SELECT public.similarity('a', 'b');\n")
        for extra in (
            ["--schema-only", "--no-owner", "--no-privileges", "--no-comments"],
            ["--data-only", "--table=django_migrations"],
        ):
            done = _run(_bindir() / "pg_dump", *target, *extra, env=env)
            # Column options some servers add of their own (pg_attver=...):
            # another server refuses them, and the schema sets none.
            sql.write(
                re.sub(
                    r"(?m)^ALTER TABLE ONLY .* ALTER COLUMN .* SET \(.*\);\n", "", done
                )
            )
    return out


def _run(program: Path, *args: str, env: dict | None = None) -> str:
    import subprocess

    done = subprocess.run(  # noqa: S603
        [str(program), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{program.name} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {DEADLINE_SECONDS} s")
        time.sleep(0.05)


def _caught_up(pair: Pair) -> None:
    """Wait until the standby has replayed everything the primary wrote so far."""
    with psycopg.connect(pair.primary.url(), autocommit=True) as conn:
        (lsn,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    with psycopg.connect(pair.standby.url(), autocommit=True) as conn:

        def replayed() -> bool:
            return conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [str(lsn)]
            ).fetchone()[0]

        _wait(replayed, "the standby replaying the primary's writes")


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Pair]:
    if not (_bindir() / "pg_basebackup").exists():
        pytest.skip(f"no PostgreSQL server binaries in {_bindir()}")
    folder = tmp_path_factory.mktemp("replica")
    with django_db_blocker.unblock():
        schema = _suite_schema(folder)
    proof_key = settings.TENANT_PROOF_KEY or settings.SECRET_KEY
    with own_postgres() as primary:
        app_url, owner_url = _devdb().ensure_roles(primary.url(), "advisoros")
        owner = psycopg.conninfo.conninfo_to_dict(owner_url)
        _run(
            _bindir() / "psql",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={primary.url('advisoros', owner['user'])}",
            f"--file={schema}",
        )
        out = manage(
            app_url,
            "shell",
            "-c",
            SEED,
            DATABASE_OWNER_URL=owner_url,
            DATABASE_REPLICA_URL="",
            TENANT_PROOF_KEY=proof_key,
        )
        seeded = json.loads(out.split("SEEDED", 1)[1])
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {REPLICATOR} LOGIN REPLICATION")
        with own_standby(primary, REPLICATOR) as standby:
            replica_url = app_url.replace(f":{primary.port}/", f":{standby.port}/")
            with psycopg.connect(primary.url(), autocommit=True) as conn:
                _wait(
                    lambda: conn.execute(
                        "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"
                    ).fetchone(),
                    "the standby streaming",
                )
            with gunicorn(
                app_url,
                folder / "gunicorn.log",
                DATABASE_REPLICA_URL=replica_url,
                TENANT_PROOF_KEY=proof_key,
            ) as base:
                yield Pair(primary, standby, app_url, replica_url, seeded, base)


class Browser:
    """Requests with a session cookie, the CSRF pair, and any cookies the app set."""

    def __init__(self, base: str, session: str) -> None:
        self.port = int(base.rsplit(":", 1)[1])
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked secret
        self.cookies = {"sessionid": session, "csrftoken": self.csrf}

    def request(self, method: str, path: str, form: str = "") -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if method == "POST":
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.csrf,
            }
        try:
            connection.request(method, path, body=form or None, headers=headers)
            response = connection.getresponse()
            body = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, body
        finally:
            connection.close()


def _open_invitations(page: str) -> int:
    found = re.search(
        r'<div class="value">(\d+)</div><div class="label">open invitation', page
    )
    assert found, page[:2000]
    return int(found[1])


def _active_members(page: str) -> int:
    found = re.search(
        r'<div class="value">(\d+)</div><div class="label">active member', page
    )
    assert found, page[:2000]
    return int(found[1])


def test_reports_read_the_replica_and_a_writer_reads_its_writes_on_the_primary(pair):
    ann = Browser(pair.base, pair.seeded["sessions"]["ann"])
    bea = Browser(pair.base, pair.seeded["sessions"]["bea"])
    dashboard = "/o/replica-alpha/"
    _caught_up(pair)
    with psycopg.connect(pair.standby.url(), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            status, _ = ann.request(
                "POST",
                "/o/replica-alpha/members/invite/",
                "email=new.hire%40alpha.test&role=staff",
            )
            assert status == 302
            # The POST pinned Ann's browser to the primary for a while.
            assert int(ann.cookies[PIN_COOKIE]) > time.time()

            status, page = ann.request("GET", dashboard)
            assert status == 200
            assert _open_invitations(page) == 1  # her own write, from the primary

            status, page = bea.request("GET", dashboard)
            assert status == 200
            assert _open_invitations(page) == 0  # the replica has not replayed it
            # ... but it is the firm's own data: the replica applied Alpha's settings.
            assert _active_members(page) == 2

            del ann.cookies[PIN_COOKIE]
            assert _open_invitations(ann.request("GET", dashboard)[1]) == 0

            # A page that does not opt in reads on the primary, pinned or not.
            status, page = bea.request("GET", "/o/replica-alpha/members/")
            assert status == 200
            assert "new.hire@alpha.test" in page
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    _caught_up(pair)
    assert _open_invitations(bea.request("GET", dashboard)[1]) == 1


def test_the_report_pages_render_from_the_replica(pair):
    bea = Browser(pair.base, pair.seeded["sessions"]["bea"])
    client = pair.seeded["alpha_client"]
    for path in (
        "/o/replica-alpha/billing/reports/",
        "/o/replica-alpha/billing/reports/ageing/",
        f"/o/replica-alpha/reports/clients/{client}/profit-and-loss/",
    ):
        status, page = bea.request("GET", path)
        assert status == 200, (path, page[:2000])
    # Beta's client under Alpha's address: the replica, in Alpha's context, has none.
    beta_client = pair.seeded["beta_client"]
    path = f"/o/replica-alpha/reports/clients/{beta_client}/profit-and-loss/"
    assert bea.request("GET", path)[0] == 404


def test_the_replica_connection_gets_the_firm_settings_on_first_use_and_gives_them_back(
    pair,
):
    out = manage(
        pair.app_url,
        "shell",
        "-c",
        ROUTER_PROBE,
        DATABASE_REPLICA_URL=pair.replica_url,
        TENANT_PROOF_KEY=settings.TENANT_PROOF_KEY or settings.SECRET_KEY,
    )
    probe = json.loads(out.split("PROBE", 1)[1])
    alpha = str(pair.seeded["alpha"])
    # A standby, and nothing ever set on it until a replica read needs it.
    assert probe["unused"] == [None, True]
    assert probe["routed"] == "replica"
    assert probe["names"] == ["Alpha Client"]
    assert probe["during"] == [alpha, True]
    assert probe["loaded_from"] == "replica"
    # A row read on the replica is saved on the primary; the request then reads there.
    assert probe["write_to"] == "default"
    assert probe["after_write"] == "default"
    # Emptied when the block ends; reads outside it go to the primary.
    assert probe["after"] == ["", True]
    assert probe["outside_reads"] == "default"
    # With no firm's context the replica shows no tenant rows (RLS fails closed).
    assert probe["no_context_routed"] == "replica"
    assert probe["no_context_names"] == []


def test_row_level_security_holds_on_the_replica(pair):
    alpha, beta = pair.seeded["alpha"], pair.seeded["beta"]
    with psycopg.connect(pair.replica_url, autocommit=True) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls, pg_is_in_recovery() FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False, True)  # the app role, on a standby

        def names() -> list[str]:
            rows = conn.execute("SELECT display_name FROM clients_client ORDER BY 1")
            return [name for (name,) in rows]

        def enter(org: int | str, proof: str | None = None) -> None:
            values = [str(org), "", ""]
            proof = proof or tenant_proof(*values, conn.info.backend_pid)
            conn.execute(
                "SELECT set_config('app.organization_id', %s, false),"
                " set_config('app.user_id', %s, false),"
                " set_config('app.rls_bypass', %s, false),"
                " set_config('app.tenant_proof', %s, false)",
                [*values, proof],
            )

        assert names() == []  # outside any firm: nothing
        enter(alpha)
        assert names() == ["Alpha Client"]  # Beta's client is invisible
        enter(beta)
        assert names() == ["Beta Client"]
        enter(alpha, proof="0" * 64)  # a firm set without its proof: nothing
        assert names() == []
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM clients_client")
