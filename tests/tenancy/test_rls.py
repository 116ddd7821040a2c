"""Wall two: PostgreSQL row-level security on every tenant table.

The tables are collected from the app registry (every model with a direct
`organization` foreign key), so a new app's tables are covered without edits.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from advisoros.tenancy.db import platform_bypass, tenant_context, user_context
from advisoros.tenancy.models import Membership, Organization

TENANT_TABLES = sorted(
    {
        model._meta.db_table
        for model in apps.get_models()
        if any(
            f.name == "organization" and f.related_model is Organization
            for f in model._meta.concrete_fields
        )
    }
)


@pytest.fixture
def sampled(cast):
    """The cast with a row in every tenant table of both firms (tests/samples.py)."""
    from tests.samples import firm_samples

    firm_samples(cast.alpha, cast.alice)
    firm_samples(cast.beta, cast.oscar)
    return cast


def _count(table: str, where: str = "TRUE", params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', params or [])  # noqa: S608
        return cursor.fetchone()[0]


def test_the_registry_finds_the_foundation_tables():
    assert {
        "tenancy_membership",
        "tenancy_invitation",
        "audit_auditevent",
        "audit_logentry",
    } <= set(TENANT_TABLES)


def test_the_application_connects_as_a_role_that_rls_binds(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_raw_sql_under_one_firm_never_sees_another_firms_rows(sampled, table):
    cast = sampled
    with platform_bypass():
        beta_rows = _count(table, "organization_id = %s", [cast.beta.pk])
        alpha_rows = _count(table, "organization_id = %s", [cast.alpha.pk])
    assert beta_rows > 0 and alpha_rows > 0, (
        f"{table} has no rows in both firms: add one to tests/samples.py"
    )
    with tenant_context(cast.alpha):
        assert _count(table, "organization_id = %s", [cast.beta.pk]) == 0
        assert _count(table) == alpha_rows


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_with_no_firm_set_a_tenant_table_shows_no_rows(sampled, table):
    assert _count(table) == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_an_insert_for_another_firm_is_refused(cast, table):
    with tenant_context(cast.alpha), pytest.raises(DatabaseError) as excinfo:
        with transaction.atomic(), connection.cursor() as cursor:
            # RLS WITH CHECK runs before NOT NULL and other constraints.
            cursor.execute(
                f'INSERT INTO "{table}" (organization_id) VALUES (%s)',  # noqa: S608
                [cast.beta.pk],
            )
    assert "row-level security" in str(excinfo.value)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_an_update_cannot_move_a_row_into_another_firm(sampled, table):
    cast = sampled
    with tenant_context(cast.alpha):
        with pytest.raises(DatabaseError) as excinfo:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f'UPDATE "{table}" SET organization_id = %s',  # noqa: S608
                    [cast.beta.pk],
                )
        # Audit tables refuse any rewrite earlier: the app role may not UPDATE
        # them at all (and their append-only trigger stands behind that).
        message = str(excinfo.value)
        assert "row-level security" in message or (
            table.startswith("audit_") and "permission denied" in message
        )


def test_a_person_sees_their_own_memberships_in_every_firm_and_no_one_elses(cast):
    # The firm switcher: app.user_id opens the user's own rows, nothing more.
    with platform_bypass():
        Membership.objects.create(organization=cast.beta, user=cast.alice)
    with user_context(cast.alice.pk), connection.cursor() as cursor:
        cursor.execute("SELECT user_id, organization_id FROM tenancy_membership")
        rows = set(cursor.fetchall())
    assert rows == {(cast.alice.pk, cast.alpha.pk), (cast.alice.pk, cast.beta.pk)}


def test_the_orm_and_the_database_agree_inside_a_firm(cast):
    with tenant_context(cast.beta):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    assert emails == {"oscar@beta.test"}


def test_leaving_a_context_restores_the_previous_one(cast):
    def setting() -> str | None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.organization_id', true)")
            return cursor.fetchone()[0]

    with tenant_context(cast.alpha):
        with tenant_context(cast.beta):
            assert setting() == str(cast.beta.pk)
        assert setting() == str(cast.alpha.pk)
    assert setting() == ""  # reset, as PostgreSQL reads a cleared setting
