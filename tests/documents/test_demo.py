"""seed_demo's documents for Demo CPA: real files, read by OCR, found by search."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization
from documents.models import Document, DocumentRequest, OcrStatus
from documents.search import document_search


def test_the_demo_firm_opens_with_documents_read_by_ocr_and_searchable(
    db, settings, tmp_path
):
    settings.DEBUG = True  # seed_demo runs only in DEBUG
    settings.MEDIA_ROOT = str(tmp_path)

    call_command("seed_demo", stdout=StringIO())
    demo = Organization.objects.get(slug="demo")
    with platform_bypass():
        owner = Membership.objects.select_related("organization", "user").get(
            organization=demo, user=User.objects.get(email="owner@demo.test")
        )
    with tenant_context(demo):
        documents = list(Document.objects.filter(is_latest_version=True))
        call_command("seed_demo", stdout=StringIO())

        assert Document.objects.filter(is_latest_version=True).count() == len(documents)
        assert len(documents) >= 5
        assert Document.objects.filter(version=2).exists()
        done = [d for d in documents if d.ocr_status == OcrStatus.COMPLETED]
        assert len(done) >= 4
        w2 = next(d for d in documents if d.original_filename == "w2-2025-scan.png")
        assert "Wage" in w2.ocr_text and w2.ocr_confidence >= 0.8
        assert w2.suggested_category == "w2"
        # The documents demo's two requests (the portal demo adds its own).
        assert (
            DocumentRequest.objects.filter(
                title__in=["2025 tax organizer", "January bank statements"]
            ).count()
            == 2
        )
        found = document_search(membership=owner, query="Northwind")
        assert [d.original_filename for d in found.rows] == ["w2-2025-scan.png"]


def test_without_tesseract_the_demo_is_seeded_and_each_scan_says_why_it_is_unread(
    db, settings, tmp_path, monkeypatch, client
):
    """A machine without the OCR program: seed_demo finishes, and each scan it
    could not read is failed with the reason on its page and a Try again button."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract to be found

    out = StringIO()
    call_command("seed_demo", stdout=out)

    assert "left unread" in out.getvalue()
    demo = Organization.objects.get(slug="demo")
    with tenant_context(demo):
        w2 = Document.objects.get(
            original_filename="w2-2025-scan.png", is_latest_version=True
        )
        assert Document.objects.filter(ocr_status=OcrStatus.COMPLETED).exists()
    assert w2.ocr_status == OcrStatus.FAILED
    assert "tesseract" in w2.ocr_error and "not installed" in w2.ocr_error
    client.force_login(User.objects.get(email="owner@demo.test"))
    page = client.get(
        reverse(
            "documents:document_detail",
            kwargs={"org_slug": "demo", "document_uuid": w2.uuid},
        )
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "the OCR program (tesseract) is not installed" in html
    assert 'data-testid="ocr-rerun"' in html and "Try again" in html
