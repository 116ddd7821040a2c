"""The database connection pool of production's web processes (DB_POOL=true).

Django's own pool (psycopg-pool, `DATABASES["default"]["OPTIONS"]["pool"]`): a
request borrows a connection and gives it back at its end (CONN_MAX_AGE must
be 0: the pool, not Django, keeps connections open).

The tenancy sets its row-level-security variables at session level
(advisoros.tenancy.db: `set_config(..., false)`, restored in `finally`), so a
connection could carry them from one request into the next. The `finally`
already restores the empty context on every way out of a firm's block; this
pool makes it a second time, whatever happened, before a returned connection
can be lent again: `reset_connection` empties each `app.*` variable (the
tenant proof included, so nothing left is honoured). Only those: `RESET ALL`
would also undo the time zone that Django sets once per pooled connection.

Imported by the settings module: nothing here touches Django.
"""

from __future__ import annotations

from typing import Any

# Every session variable the tenancy sets (advisoros.tenancy.db._SET_SQL).
TENANCY_VARIABLES = (
    "app.organization_id",
    "app.user_id",
    "app.rls_bypass",
    "app.tenant_proof",
)
_RESET_SQL = "SELECT " + ", ".join(
    f"set_config('{name}', '', false)" for name in TENANCY_VARIABLES
)


def reset_connection(conn: Any) -> None:
    """psycopg-pool's `reset`: run on every connection given back to the pool,
    outside any transaction; one left in a transaction is discarded by the pool."""
    conn.execute(_RESET_SQL)
    if not conn.autocommit:
        conn.commit()


def pool_options(*, min_size: int, max_size: int, timeout: float) -> dict[str, Any]:
    """The pool's options: `max_size` connections at most per process (a
    gunicorn worker's threads), `timeout` seconds to wait for one before the
    request fails (with the outage page, advisoros.outage)."""
    return {
        "min_size": min_size,
        "max_size": max_size,
        "timeout": timeout,
        "reset": reset_connection,
    }
