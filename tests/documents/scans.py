"""Scans the OCR tests render themselves (the generator lives in
`documents.demo_scans`, which the benchmark and demo seeding use too), and a way
to store one as a document waiting for OCR."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from documents.demo_scans import (
    BANK_STATEMENT_LINES,
    FORM_1099_LINES,
    RECEIPT_LINES,
    W2_LINES,
    broken_pdf,
    encrypted_pdf,
    noisy_scan_png,
    photo_png,
    scan_pdf,
    scan_png,
    scan_tiff,
    text_layer_pdf,
    turned_photo_jpeg,
)
from documents.models import Document

__all__ = [
    "BANK_STATEMENT_LINES",
    "FORM_1099_LINES",
    "RECEIPT_LINES",
    "W2_LINES",
    "broken_pdf",
    "encrypted_pdf",
    "noisy_scan_png",
    "photo_png",
    "scan_document",
    "scan_pdf",
    "scan_png",
    "scan_tiff",
    "text_layer_pdf",
    "turned_photo_jpeg",
]


def scan_document(
    client: Client,
    content: bytes,
    *,
    filename: str = "scan.png",
    mime_type: str = "image/png",
    title: str = "",
    **fields,
) -> Document:
    """A document (version 1, OCR pending) whose file is `content` in default
    storage, written directly: the OCR tests are about reading it, not uploading
    it (tests/documents/test_upload*.py cover uploads)."""
    with tenant_context(client.organization):
        document = Document(
            organization=client.organization,
            client=client,
            title=title or filename,
            original_filename=filename,
            size=len(content),
            mime_type=mime_type,
            checksum=hashlib.sha256(content).hexdigest(),
            **fields,
        )
        document.file.save(filename, ContentFile(content), save=False)
        document.save()
        return document
