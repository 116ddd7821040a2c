"""The hot tables read by index-only scans are vacuumed after 2% of their rows
change, not PostgreSQL's 20% (documents 0012, workflows 0006), and the bench
settles its database after seeding as autovacuum would (dbroles.database_vacuum)."""

from __future__ import annotations

import pytest
from django.db import connection

from advisoros.tenancy.dbroles import database_vacuum

SOONER = {
    "autovacuum_vacuum_scale_factor=0.02",
    "autovacuum_vacuum_insert_scale_factor=0.02",
    "autovacuum_analyze_scale_factor=0.02",
}


@pytest.mark.parametrize("table", ["documents_document", "workflows_task"])
def test_the_table_is_vacuumed_after_two_percent_of_its_rows_change(db, table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table]
        )
        (options,) = cursor.fetchone()
    assert set(options or []) >= SOONER


def test_the_database_vacuum_runs_outside_a_transaction_only(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(vacuum_count, 0) FROM pg_stat_user_tables"
            " WHERE relname = 'workflows_task'"
        )
        (before,) = cursor.fetchone()

    assert database_vacuum() is True

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(vacuum_count, 0) FROM pg_stat_user_tables"
            " WHERE relname = 'workflows_task'"
        )
        (after,) = cursor.fetchone()
    assert after > before


def test_inside_a_transaction_the_vacuum_is_skipped(db):
    assert database_vacuum() is False
