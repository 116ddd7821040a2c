"""The search benchmark's data (bench/documents_seed.py) and its measure
(bench/documents_search.py), on small firms."""

from __future__ import annotations

import io

from django.db import connection

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from bench.documents_search import QUERIES, measure_document_search
from bench.documents_seed import LARGEST, SMALL, seed_document_firms
from documents.models import Document
from tests.factories import make_document


def _count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_the_seeder_tops_firms_up_to_their_size_and_no_further(db):
    out = io.StringIO()
    added = seed_document_firms(stdout=out, firms=[("bench-docs-test", 400, 30)])
    again = seed_document_firms(stdout=out, firms=[("bench-docs-test", 400, 30)])

    organization = Organization.objects.get(slug="bench-docs-test")
    with tenant_context(organization):
        documents = Document.objects.filter(organization=organization)
        assert (added, again, documents.count()) == (400, 0, 400)
        older = documents.filter(is_latest_version=False)
        assert 0 < older.count() < 60  # about 5% have an older version
        assert not documents.filter(search_vector__isnull=True).exists()
        assert documents.filter(access_level="confidential").exists()
        assert documents.filter(original_filename__startswith="W-2_").exists()
        completed = documents.filter(ocr_status="completed").first()
        assert len(completed.ocr_text.split()) > 100
        assert _count("SELECT count(*) FROM documents_searchword") > 20


def test_the_measure_runs_bound_by_rls_and_reports_both_firms(db):
    seed_document_firms(firms=[(LARGEST, 300, 30), (SMALL, 100, 10)])
    with platform_bypass():
        firms = list(Organization.objects.filter(slug__in=[LARGEST, SMALL]))
    for organization in firms:  # a rare word, in both firms
        client = organization_client(organization)
        make_document(client, title="Letter", ocr_text="zeppelin")
    out = io.StringIO()

    records = measure_document_search(stdout=out)

    names = {r["name"] for r in records}
    for label in QUERIES:
        assert f"document_search.{label}.p95_ms" in names
        assert f"document_search.rls_bound.{label}.p50_ms" in names
        assert f"document_search.definer.{label}.p50_ms" in names
    assert {"document_search.p95_ms", "document_search.p95_ratio"} <= names
    assert "document_search.page.p95_ms" in names
    sizes = {
        r["dataset_size"] for r in records if r["name"] == "document_search.p95_ms"
    }
    assert sizes == {301, 101}
    assert "no superuser, no BYPASSRLS, RLS forced" in out.getvalue()
    assert not any(r.get("missed") for r in records)


def organization_client(organization):
    from clients.models import Client

    with tenant_context(organization):
        return Client.objects.filter(organization=organization).first()
