"""Every table with an organization_id column is behind row-level security.

Read from PostgreSQL's own catalogue, so a new table that forgets the
EnableRowLevelSecurity migration operation fails the suite.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def _tables_with_organization_column() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema()
              AND c.column_name = 'organization_id'
              AND t.table_type = 'BASE TABLE'
            ORDER BY 1
            """
        )
        return [row[0] for row in cursor.fetchall()]


def test_every_table_with_an_organization_column_has_rls_forced_and_a_policy(db):
    tables = _tables_with_organization_column()
    assert "tenancy_membership" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p
                           WHERE p.schemaname = current_schema()
                             AND p.tablename = c.relname
                             AND p.policyname = 'tenant_isolation')
            FROM pg_class c
            WHERE c.relname = ANY(%s)
              AND c.relnamespace = current_schema()::regnamespace
            """,
            [tables],
        )
        state = {
            name: (enabled, forced, policy) for name, enabled, forced, policy in cursor
        }
    missing = {t: state.get(t) for t in tables if state.get(t) != (True, True, True)}
    assert missing == {}, (
        "Tables without RLS enabled + forced + the tenant_isolation policy "
        "(add EnableRowLevelSecurity to their migration): " + ", ".join(missing)
    )


def test_the_policies_compare_against_the_proven_firm(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, qual, with_check FROM pg_policies "
            "WHERE policyname = 'tenant_isolation'"
        )
        rows = cursor.fetchall()
    assert rows
    for table, using, check in rows:
        # Never the bare setting: only what carries the session's proof.
        assert "current_setting" not in using + check, table
        assert "organization_id = ( SELECT app_tenant_org()" in using, table
        assert "organization_id = ( SELECT app_tenant_org()" in check, table


def test_only_the_owner_role_passes_every_policy(db):
    tables = _tables_with_organization_column()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, roles::text[], qual, with_check FROM pg_policies"
            " WHERE schemaname = current_schema() AND policyname <> 'tenant_isolation'"
        )
        others = {row[0]: row[1:] for row in cursor.fetchall()}
    owner = settings.DATABASE_OWNER["USER"]
    assert {t: others.get(t) for t in tables} == {
        t: ([owner], "true", "true") for t in tables
    }
    assert set(others) <= set(tables)
