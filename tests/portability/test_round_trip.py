"""An export imported into a new firm and exported again holds the same content."""

from __future__ import annotations

import io
import json

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.export import firm_tables
from advisoros.tenancy.firm_import import firm_import
from tests.portability.exports import export_bytes, normalised, open_zip


def test_an_export_imported_into_a_new_firm_exports_the_same_content(cast, full_firm):
    first = export_bytes(full_firm)

    gamma, counts = firm_import(source=io.BytesIO(first), slug="gamma", by=cast.alice)
    second = export_bytes(gamma)

    before, after = normalised(open_zip(first)), normalised(open_zip(second))
    assert before.keys() == after.keys()
    for label in before:
        assert before[label] == after[label], label
    # Every table of the firm had rows, and every one came back.
    manifest = json.loads(open_zip(first).read("manifest.json"))
    assert {t["model"] for t in manifest["tables"]} == {
        m._meta.label_lower for m in firm_tables()
    }
    assert all(t["rows"] > 0 for t in manifest["tables"]), manifest["counts"]
    assert counts == {t["model"]: t["rows"] for t in manifest["tables"]}


def test_the_new_firm_reads_its_documents_and_tax_ids(cast, full_firm):
    from clients.models import Client
    from documents.models import Document

    gamma, _ = firm_import(source=io.BytesIO(export_bytes(full_firm)), slug="gamma")

    with tenant_context(gamma):
        jane = Client.objects.get(organization=gamma, display_name="Jane Doe")
        assert jane.tax_id == "123-45-6789"
        latest = Document.objects.get(client=jane, is_latest_version=True, version=2)
        assert latest.version == 2
        assert latest.parent_document.client_id == jane.pk
        assert latest.file.name.startswith(f"private/{gamma.pk}/")
        with latest.file.open("rb") as handle:
            assert handle.read() == b"date,amount\n2024-01-02,12.00\n"
        event = AuditEvent.objects.get(
            organization=gamma, action=AuditAction.FIRM_IMPORTED
        )
    assert event.actor is None
    assert event.detail["source_firm"]["slug"] == "alpha"
