"""The SECURITY DEFINER search function: it uses its indexes, and it cannot leak.

`document_search_ids` is owned by the database owner role, which the tenant
policies do not bind (`platform_owner`) and which the application can never
become; the function names the firm itself, the one the session has proven
(advisoros.tenancy.rls), and a bare setting of another firm's id opens nothing.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction

from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import Document
from tests.factories import explain, index_scans, make_client, make_document

FUNCTION_ARGS = (
    "text, bigint, boolean, boolean, bigint, text, integer, text, boolean, real,"
    " bigint, integer"
)


def call(query: str, *, user_id: int, every_level: bool = True, **kw) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT document_id FROM document_search_ids(%s, %s, %s, %s, %s)",
            [query, user_id, every_level, False, kw.get("client_id")],
        )
        return [row[0] for row in cursor.fetchall()]


def fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def firms(cast):
    """Alpha and Beta, each with a document that says "payroll"."""
    alpha_client = make_client(cast.alpha, "Jane Doe")
    beta_client = make_client(cast.beta, "Bob Beta")
    return {
        "alpha": make_document(alpha_client, title="Alpha payroll"),
        "beta": make_document(beta_client, title="Beta payroll"),
        "beta_client": beta_client,
    }


def test_the_function_finds_the_firms_documents(cast, firms):
    with tenant_context(cast.alpha):
        assert call("payroll", user_id=cast.alice.pk) == [firms["alpha"].pk]
    with tenant_context(cast.beta):
        assert call("payroll", user_id=cast.oscar.pk) == [firms["beta"].pk]


def test_the_function_returns_nothing_without_a_firm_setting(cast, firms):
    assert fetch("SELECT current_setting('app.organization_id', true)") in (
        [("",)],
        [(None,)],
    )
    assert call("payroll", user_id=cast.alice.pk) == []


def test_the_function_ignores_the_platform_bypass(cast, firms):
    with platform_bypass():
        assert Document.objects.filter(title__endswith="payroll").count() == 2
        assert call("payroll", user_id=cast.alice.pk) == []


def test_another_firms_documents_never_come_back(cast, firms):
    with tenant_context(cast.alpha):
        # Even asked for Beta's client by id, with every access level.
        found = call(
            "payroll", user_id=cast.alice.pk, client_id=firms["beta_client"].pk
        )
        everything = call("payroll beta", user_id=cast.alice.pk)
    assert found == []
    assert everything == []


def test_no_setting_is_left_behind_by_a_call(cast, firms):
    with tenant_context(cast.alpha):
        before = fetch(
            "SELECT current_user, current_setting('app.rls_bypass', true),"
            " current_setting('app.organization_id', true)"
        )
        call("payroll", user_id=cast.alice.pk)
        after = fetch(
            "SELECT current_user, current_setting('app.rls_bypass', true),"
            " current_setting('app.organization_id', true)"
        )
    assert after == before
    assert after[0][0] == "advisoros_app"
    assert after[0][1] in ("", None)


def test_the_function_is_owned_by_the_owner_role_the_app_cannot_become(db):
    (row,) = fetch(
        "SELECT pg_get_userbyid(p.proowner), p.prosecdef, p.provolatile, p.proconfig,"
        " r.rolsuper, r.rolbypassrls,"
        " pg_has_role(current_user, r.oid, 'MEMBER'),"
        " has_function_privilege('public', p.oid, 'EXECUTE'),"
        " has_function_privilege(current_user, p.oid, 'EXECUTE')"
        " FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
        f" WHERE p.oid = 'document_search_ids({FUNCTION_ARGS})'::regprocedure"
    )
    owner, definer, volatility, config, superuser, bypass, member, public, app = row
    # VOLATILE only to ask the planner for an estimate (EXPLAIN); it writes nothing.
    assert (owner, definer, volatility) == (
        django_settings.DATABASE_OWNER["USER"],
        True,
        "v",
    )
    assert "search_path=pg_catalog, public, pg_temp" in config
    assert not (superuser or bypass)
    assert not member  # the app role can never act as the owner
    assert not public
    assert app


def test_a_forged_firm_setting_finds_nothing(cast, firms):
    with tenant_context(cast.alpha), connection.cursor() as cursor:
        # Injected SQL sets Beta's id, keeping Alpha's proof: no firm at all.
        cursor.execute(
            "SELECT set_config('app.organization_id', %s, false)", [str(cast.beta.pk)]
        )
        assert call("payroll", user_id=cast.oscar.pk) == []
        assert fetch("SELECT count(*) FROM documents_document") == [(0,)]


def test_the_app_role_is_no_member_of_a_wider_role(cast, firms):
    for role in (django_settings.DATABASE_OWNER["USER"], "advisoros_search"):
        with pytest.raises(DatabaseError, match="permission denied|does not exist"):
            with transaction.atomic():
                fetch(f"SET ROLE {role}")


def test_the_app_role_still_cannot_read_another_firms_documents(cast, firms):
    with tenant_context(cast.alpha):
        titles = {r[0] for r in fetch("SELECT title FROM documents_document")}
    assert titles == {"Alpha payroll"}


# The trap and its way out: EXPLAIN -----------------------------------------------


def _split(text: str) -> list[str]:
    return text.split()


VOCABULARY = _split(
    "income wages federal withholding employer social security medicare tips "
    "state local tax return schedule deduction interest dividend mortgage bank "
    "statement balance deposit payment invoice receipt payroll quarterly"
)


def _fill(client, count: int) -> None:
    """`count` documents of OCR-like text (the trigger indexes them)."""
    n = len(VOCABULARY)
    with tenant_context(client.organization):
        Document.objects.bulk_create(
            Document(
                organization_id=client.organization_id,
                client=client,
                title=f"Scan {g}",
                original_filename=f"scan_{g}.pdf",
                file=f"private/{client.organization_id}/documents/{g}",
                size=1,
                mime_type="application/pdf",
                checksum=f"{g:064d}",
                ocr_status="completed",
                ocr_text=" ".join(VOCABULARY[(g * 7 + i * 13) % n] for i in range(60)),
            )
            for g in range(count)
        )


@pytest.fixture
def big_firms(cast, owner_cursor):
    """Committed (transactional_db, through owner_cursor), so that the owner's
    connection can do what autovacuum would."""
    alpha_client = make_client(cast.alpha, "Jane Doe")
    beta_client = make_client(cast.beta, "Bob Beta")
    _fill(alpha_client, 1000)
    _fill(beta_client, 1000)
    rare = make_document(alpha_client, title="Zeppelin invoice", ocr_text="zeppelin")
    with tenant_context(cast.alpha), connection.cursor() as cursor:
        # A firm's titles and file names hold tens of thousands of words (with
        # a few thousand, the plan could go either way as dead rows of earlier
        # tests changed the table's size: a flaky test).
        cursor.execute(
            "INSERT INTO documents_searchword (organization_id, word)"
            " SELECT %s, md5(g::text) FROM generate_series(1, 30000) g",
            [cast.alpha.pk],
        )
    # What autovacuum does: move new entries out of the GIN pending lists
    # (which the planner, rightly, prices high), then fresh statistics.
    owner_cursor.execute(
        "SELECT gin_clean_pending_list('document_search_vector_gin'),"
        " gin_clean_pending_list('documents_searchword_trgm')"
    )
    owner_cursor.execute("ANALYZE documents_searchword")
    owner_cursor.execute("ANALYZE documents_document")
    return rare


# The search's own filter: what the function's WHERE does for one word.
MATCH = (
    "SELECT id FROM documents_document d WHERE d.organization_id = %s"
    " AND d.is_latest_version AND d.search_vector @@ document_search_query(%s)"
)


def test_under_the_tenant_policy_the_gin_index_cannot_be_used(cast, big_firms):
    with tenant_context(cast.alpha):
        plan = index_scans(explain(MATCH, [cast.alpha.pk, "zeppelin"]))
    assert "document_search_vector_gin" not in plan  # the trap: a scan of the firm


def test_as_the_owner_role_the_gin_index_is_used(cast, big_firms, owner_cursor):
    owner_cursor.execute("EXPLAIN (FORMAT JSON) " + MATCH, [cast.alpha.pk, "zeppelin"])
    plan = json.dumps(owner_cursor.fetchone()[0])
    assert "document_search_vector_gin" in plan


def test_the_search_function_scans_the_gin_index(cast, big_firms):
    scans = "SELECT pg_stat_get_xact_numscans('document_search_vector_gin'::regclass)"
    with tenant_context(cast.alpha):
        (before,) = fetch(scans)
        found = call("zeppelin", user_id=cast.alice.pk)
        (after,) = fetch(scans)
    assert found == [big_firms.pk]
    assert after[0] > before[0]


def test_a_typo_is_corrected_through_the_word_lists_trigram_index(cast, big_firms):
    scans = (
        "SELECT pg_stat_get_xact_numscans('documents_searchword_trgm'::regclass),"
        " pg_stat_get_xact_numscans('document_search_vector_gin'::regclass)"
    )
    with tenant_context(cast.alpha):
        (before,) = fetch(scans)
        found = call("zepelin", user_id=cast.alice.pk)
        (after,) = fetch(scans)
    assert found == [big_firms.pk]
    assert after[0] > before[0] and after[1] > before[1]


# The word list: a tenant table of its own -----------------------------------------


def test_the_word_list_is_filled_by_the_trigger_and_bound_by_its_firm(cast, firms):
    sql = "SELECT organization_id, word FROM documents_searchword ORDER BY 2"
    assert fetch(sql) == []  # no firm set: no rows
    with tenant_context(cast.alpha):
        alpha_words = fetch(sql)
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                fetch(
                    "INSERT INTO documents_searchword VALUES (%s, 'intruder')"
                    " RETURNING word",
                    [cast.beta.pk],
                )
    with tenant_context(cast.beta):
        beta_words = fetch(sql)
    assert alpha_words == [
        (cast.alpha.pk, "alpha"),
        (cast.alpha.pk, "payroll"),
        (cast.alpha.pk, "scan"),
    ]
    assert {w for _, w in beta_words} == {"beta", "payroll", "scan"}
