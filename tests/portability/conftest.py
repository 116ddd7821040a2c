"""Fixtures for the firm export, import and offboarding tests: a file store of
the test's own, and Alpha filled with a realistic set of data (every tenant
table has rows, documents have versions and real bytes, a tax id is stored
encrypted, the engagement letter and the firm's logo are real files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Contact
from clients.services.engagements import engagement_letter_attach
from documents.services.documents import document_add_version
from portal.services.messages import message_send
from tests.factories import make_client, upload_document
from tests.samples import firm_samples

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe"
    b"\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def full_firm(cast) -> Organization:
    """Alpha with a row in every tenant table and real files behind its documents."""
    alpha = cast.alpha
    firm_samples(alpha, cast.alice)
    jane = make_client(
        alpha,
        "Jane Doe",
        partner=cast.alice,
        staff=cast.sam,
        entity_type="individual",
        tax_id="123-45-6789",
    )
    first = upload_document(jane, cast.alice, b"date,amount\n2024-01-02,10.00\n")
    with tenant_context(alpha):
        document_add_version(
            document=first,
            file=ContentFile(b"date,amount\n2024-01-02,12.00\n"),
            filename="ledger-v2.csv",
            uploaded_by=cast.sam,
        )
        contact = Contact.objects.create(
            organization=alpha, first_name="Jane", email="jane@example.com"
        )
        message_send(
            client=jane,
            body="Here is the statement",
            sender_user=cast.alice,
            files=[SimpleUploadedFile("statement.pdf", PDF)],
        )
        engagement = jane.engagements.create(
            organization=alpha, name="2026 return", engagement_type="individual_tax"
        )
        engagement_letter_attach(
            engagement=engagement,
            upload=SimpleUploadedFile("letter.pdf", PDF, "application/pdf"),
        )
        assert contact.pk
    alpha.logo.save("logo.png", ContentFile(PNG), save=True)
    return alpha
