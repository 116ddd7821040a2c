"""The application's own connection, running whatever SQL an injection would.

Each statement is what an attacker who controls the application's SQL would
try (docs/security.md, "Database walls"): read another firm, switch the walls
off, rewrite or empty the audit trail, become a wider role. Each must fail, or
return nothing of another firm, whatever settings the attacker sets.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.rls import tenant_proof
from tests.factories import make_client


def run(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def refused(sql: str, params=()) -> str:
    """Run `sql` in a savepoint; it must fail. Return the database's message."""
    with pytest.raises(DatabaseError) as excinfo:
        with transaction.atomic():
            run(sql, params)
    return str(excinfo.value)


@pytest.fixture
def firms(cast):
    make_client(cast.alpha, "Alpha Client")
    make_client(cast.beta, "Beta Client")
    return cast


def client_names() -> set[str]:
    return {name for (name,) in run("SELECT display_name FROM clients_client")}


def test_the_app_connects_as_a_role_that_owns_nothing(db):
    [(user, owns, superuser, bypass, createrole, createdb)] = run(
        "SELECT current_user,"
        " EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid),"
        " r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb"
        " FROM pg_roles r WHERE r.rolname = current_user"
    )
    assert user == settings.DATABASE_APP_USER
    assert user != settings.DATABASE_OWNER["USER"]
    assert not (owns or superuser or bypass or createrole or createdb)
    assert (
        run(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
            " WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        == []
    )


def test_setting_another_firms_id_shows_nothing(firms):
    with tenant_context(firms.alpha):
        assert client_names() == {"Alpha Client"}
        run("SELECT set_config('app.organization_id', %s, false)", [str(firms.beta.pk)])
        assert client_names() == set()


def test_switching_the_bypass_on_shows_nothing(firms):
    with tenant_context(firms.alpha):
        run("SELECT set_config('app.rls_bypass', 'on', false)")
        assert client_names() == set()
    run("SELECT set_config('app.rls_bypass', 'on', false)")
    assert client_names() == set()


def test_a_proof_made_for_another_session_is_worthless(firms):
    # Seen in another session's query text (pg_stat_activity), a proof names
    # that session's backend pid: here it proves nothing.
    other_pid = run("SELECT pg_backend_pid()")[0][0] + 1
    forged = tenant_proof(str(firms.beta.pk), "", "", other_pid)
    run(
        "SELECT set_config('app.organization_id', %s, false),"
        " set_config('app.tenant_proof', %s, false)",
        [str(firms.beta.pk), forged],
    )
    assert client_names() == set()
    # The same values with this session's pid: the real proof works (the test
    # holds the key, which the database never shows this role).
    mine = tenant_proof(
        str(firms.beta.pk), "", "", connection.connection.info.backend_pid
    )
    run("SELECT set_config('app.tenant_proof', %s, false)", [mine])
    assert client_names() == {"Beta Client"}
    run("SELECT set_config('app.tenant_proof', '', false)")


def test_the_key_and_the_proof_functions_stay_the_owners(firms):
    assert "permission denied" in refused("SELECT * FROM app_tenant_key")
    assert "permission denied" in refused(
        "CREATE OR REPLACE FUNCTION public.app_tenant_org() RETURNS bigint"
        " LANGUAGE sql AS 'SELECT 1::bigint'"
    )
    assert "must be owner" in refused(
        "ALTER FUNCTION app_tenant_proven() OWNER TO CURRENT_USER"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE clients_client DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE clients_client NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON clients_client",
        "ALTER POLICY tenant_isolation ON clients_client USING (true)",
        "CREATE POLICY mine ON clients_client USING (true)",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
        "ALTER TABLE audit_auditevent OWNER TO CURRENT_USER",
    ],
)
def test_the_walls_cannot_be_altered(firms, statement):
    assert "must be owner" in refused(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'login'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "UPDATE audit_logentry SET changes_text = ''",
        "DELETE FROM audit_logentry",
        "TRUNCATE audit_logentry",
        "TRUNCATE clients_client CASCADE",
    ],
)
def test_the_audit_trail_takes_inserts_only(firms, statement):
    with tenant_context(firms.alpha):
        assert AuditEvent.objects.exists()
        assert "permission denied" in refused(statement)
        assert AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "SET ROLE advisoros_owner",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
        "SET session_replication_role = replica",
        "CREATE TABLE public.mine (id int)",
        "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE SCHEMA mine",
        "ALTER ROLE CURRENT_USER BYPASSRLS",
    ],
)
def test_the_app_role_cannot_widen_itself(firms, statement):
    message = refused(statement)
    assert "permission denied" in message or "must be" in message


def test_a_deleted_person_may_still_be_cleared_from_the_audit_trail(firms):
    # The one UPDATE the append-only trigger allows (ON DELETE SET NULL, done
    # by Django) is granted column by column.
    [event] = audit_event_record(
        action=AuditAction.LOGIN_SUCCESS, organizations=[firms.alpha], actor=firms.sam
    )
    with tenant_context(firms.alpha):
        run("UPDATE audit_auditevent SET actor_id = NULL WHERE id = %s", [event.pk])
        assert "append-only" in refused(
            "UPDATE audit_auditevent SET actor_id = %s WHERE id = %s",
            [firms.rita.pk, event.pk],
        )


@pytest.mark.parametrize("owner_user", ["", "same-as-app"])
def test_migrate_refuses_without_an_owner_role_of_its_own(db, settings, owner_user):
    # The platform_owner policies are made for the migrating role: migrating as
    # the app's own role would open every row to it.
    from django.core.management import call_command
    from django.core.management.base import CommandError

    user = settings.DATABASE_APP_USER if owner_user else ""
    settings.DATABASE_OWNER = {"USER": user, "PASSWORD": ""}
    with pytest.raises(CommandError, match="DATABASE_OWNER_URL"):
        call_command("migrate", "--check", verbosity=0)
