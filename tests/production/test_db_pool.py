"""The connection pool of production's web processes (DB_POOL, advisoros.dbpool):
a connection given back carries no firm's settings into its next request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from psycopg_pool import ConnectionPool

from advisoros.dbpool import pool_options
from advisoros.tenancy.db import _SET_SQL
from advisoros.tenancy.rls import tenant_proof


@pytest.fixture
def pool(transactional_db) -> Iterator[ConnectionPool]:
    """A pool of one connection to the test database with production's options
    (what Django hands psycopg-pool under DB_POOL): every loan is the same
    server connection."""
    params = {**connection.get_connection_params(), "autocommit": True}
    with ConnectionPool(
        kwargs=params, **pool_options(min_size=1, max_size=1, timeout=10)
    ) as pool:
        yield pool


def _setting_and_members(conn) -> tuple[str, int]:
    return conn.execute(
        "SELECT current_setting('app.organization_id', true),"
        " (SELECT count(*) FROM tenancy_membership)"
    ).fetchone()


def test_a_connection_given_back_with_a_firms_settings_is_lent_again_empty(cast, pool):
    with pool.connection() as conn:  # a request
        pid = conn.info.backend_pid
        # One that never restored its firm's settings (the tenancy restores
        # them in `finally`; this is the case where something still went wrong).
        values = [str(cast.alpha.pk), "", ""]
        conn.execute(_SET_SQL, [*values, tenant_proof(*values, pid)])
        assert _setting_and_members(conn) == (str(cast.alpha.pk), 5)  # Alpha's five

    with pool.connection() as conn:  # the next request
        assert conn.info.backend_pid == pid  # the same server connection
        assert _setting_and_members(conn) == ("", 0)  # no firm: no rows


def _settings_of(**env: str) -> subprocess.CompletedProcess[str]:
    """Read the database settings in a fresh process, as gunicorn would."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    return subprocess.run(  # noqa: S603 (our interpreter, a fixed program)
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; d = s.DATABASES['default'];"
            " p = d['OPTIONS']['pool'];"
            " print(d['CONN_MAX_AGE'], p['max_size'], p['reset'].__qualname__)",
        ],
        env={**base, "DJANGO_SETTINGS_MODULE": "advisoros.settings", **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )


def test_the_pool_is_switched_on_by_the_environment_and_refuses_a_conn_max_age():
    pooled = _settings_of(DB_POOL="true", DB_CONN_MAX_AGE="0", DB_POOL_MAX_SIZE="6")
    refused = _settings_of(DB_POOL="true", DB_CONN_MAX_AGE="60")

    assert pooled.stdout.split() == ["0", "6", "reset_connection"], pooled.stderr
    assert refused.returncode != 0
    assert "DB_POOL is on: set DB_CONN_MAX_AGE=0" in refused.stderr
