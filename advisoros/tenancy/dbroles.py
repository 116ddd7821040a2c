"""Two database roles: the owner runs migrations, the application only reads and writes.

- The **owner** (`DATABASE_OWNER_URL`) owns every table, function and the
  database. Only `migrate`, `flush` (tests) and the test database set-up connect
  as it (`as_owner`). Production gives its credentials to the migration step only.
- The **application** (`DATABASE_URL`) owns nothing: after every migrate it is
  granted SELECT, INSERT, UPDATE and DELETE on the tables (`grants_apply`),
  minus UPDATE and DELETE on the append-only audit tables (it may still clear a
  deleted person's foreign key there, column by column, as the trigger allows),
  nothing on `app_tenant_key`, and no TRUNCATE anywhere. It cannot alter a table,
  drop a policy or trigger, or become another role.

scripts/devdb.py creates both roles for `make` (embedded PostgreSQL or
DATABASE_URL); docs/security.md has the SQL for a server you run yourself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from psycopg import sql

# Columns of the audit tables that a person's deletion sets to NULL (ON DELETE
# SET NULL, done by Django): the only UPDATE the append-only trigger lets through.
AUDIT_NULLABLE_PEOPLE = ("actor_id", "target_user_id")


def owner_settings() -> dict[str, str]:
    return getattr(settings, "DATABASE_OWNER", None) or {}


def app_role(alias: str = "default") -> str:
    if alias == "default" and getattr(settings, "DATABASE_APP_USER", ""):
        return settings.DATABASE_APP_USER
    return settings.DATABASES[alias]["USER"]


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Run the block on a connection made with the owner's credentials.

    The connection wrapper gets its own copy of the settings (other threads'
    wrappers share the original dict and keep the application's role). Refuses
    when no distinct owner is configured: the `platform_owner` policies are
    made for the migrating role, so migrating as the application role would
    open every row to it.
    """
    owner = owner_settings()
    connection = connections[alias]
    original = connection.settings_dict
    if not owner.get("USER") or owner["USER"] == app_role(alias):
        raise CommandError(
            "Migrations run as the database owner role: set DATABASE_OWNER_URL to a "
            "role other than DATABASE_URL's (`make` does it: scripts/devdb.py)."
        )
    if original.get("USER") == owner["USER"]:
        yield  # already connected as the owner (the tests' database set-up)
        return
    connection.close()
    connection.settings_dict = {
        **original,
        **{
            key: owner[key]
            for key in ("USER", "PASSWORD", "HOST", "PORT")
            if key in owner
        },
    }
    try:
        yield
    finally:
        original["NAME"] = connection.settings_dict["NAME"]  # a test database's name
        connection.close()
        connection.settings_dict = original


def _append_only_tables(cursor) -> list[str]:
    """Tables guarded by an audit append-only trigger, read from the catalogue."""
    cursor.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_proc p ON p.oid = t.tgfoid"
        " WHERE p.proname IN ('audit_append_only', 'audit_strictly_append_only')"
        "   AND NOT t.tgisinternal"
        "   AND c.relnamespace = current_schema()::regnamespace"
    )
    return sorted(row[0] for row in cursor.fetchall())


def grants_apply(alias: str = "default", role: str | None = None) -> None:
    """Give the application role exactly its rights. Idempotent; run as the owner."""
    role = role or app_role(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (current,) = cursor.fetchone()
        if current == role:
            return  # not the owner: nothing to grant (as_owner refused earlier)
        app = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app),
            sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(app),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(app),
            sql.SQL(
                "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public"
                " FROM {}"
            ).format(app),
            sql.SQL(
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}"
            ).format(app),
            sql.SQL("REVOKE ALL ON public.app_tenant_key FROM {}").format(app),
            sql.SQL(
                "REVOKE INSERT, UPDATE, DELETE ON public.django_migrations FROM {}"
            ).format(app),
        ]
        for table in _append_only_tables(cursor):
            ident = sql.Identifier(table)
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(ident, app)
            )
            cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s"
                " AND column_name = ANY(%s)",
                [table, list(AUDIT_NULLABLE_PEOPLE)],
            )
            columns = [row[0] for row in cursor.fetchall()]
            if columns:
                statements.append(
                    sql.SQL("GRANT UPDATE ({}) ON {} TO {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, columns)), ident, app
                    )
                )
        # Functions other than the revoked ones (document search) are PUBLIC.
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " WHERE p.pronamespace = current_schema()::regnamespace"
            "   AND p.proname = 'document_search_ids'"
        )
        for (signature,) in cursor.fetchall():
            statements.append(
                sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                    sql.SQL(signature), app
                )
            )
        for statement in statements:
            cursor.execute(statement)


def after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate (once per app; cheap and idempotent): key and grants current."""
    if sender.label != "tenancy":
        return
    from advisoros.tenancy.rls import ensure_tenant_functions

    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (current,) = cursor.fetchone()
    if current == app_role(using):
        return
    with connection.cursor() as cursor:
        ensure_tenant_functions(cursor)
    grants_apply(using)


def statistics_refresh(tables: list[str], *, vacuum: bool = False) -> None:
    """ANALYZE `tables` for the app role, through the owner's `app_analyze`.

    With `vacuum` (and outside a transaction) VACUUM (ANALYZE) on a connection
    of the owner's instead, when its credentials are at hand (the bench): the
    app role may not vacuum, and a function cannot.
    """
    connection = connections["default"]
    if vacuum and owner_settings().get("USER") and not connection.in_atomic_block:
        with owner_connect() as conn:
            for table in tables:
                conn.execute(
                    sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table))
                )
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT public.app_analyze(%s::regclass)", [table])


def database_vacuum() -> bool:
    """VACUUM the whole database as the owner (outside a transaction, with the
    owner's credentials at hand; False when it could not): what autovacuum would
    have done after a bulk load. The bench calls it after seeding: seeders run in
    the firm's transaction, where their own VACUUM is skipped, and until the
    visibility map is set an index-only scan reads the heap row by row (the
    dashboard's review counts: 10 ms on a fresh seed, 1 ms settled). Pages
    already all-visible are skipped, so a second call costs little."""
    if not owner_settings().get("USER") or connections["default"].in_atomic_block:
        return False
    with owner_connect() as conn:
        conn.execute("VACUUM")
    return True


def owner_connect():
    """A psycopg connection of its own (autocommit) as the owner role, to the
    database the default connection uses: maintenance in the bench and tests."""
    import psycopg

    owner = owner_settings()
    if not owner.get("USER"):
        raise CommandError("DATABASE_OWNER_URL is not set.")
    params = connections["default"].get_connection_params()
    params.update(user=owner["USER"], password=owner.get("PASSWORD") or None)
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=True)
