"""Scans the OCR tests render themselves (the generator lives in
`documents.demo_scans`, which the benchmark and demo seeding use too), and a way
to store one as a document waiting for OCR."""

from __future__ import annotations

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
    workbook_xlsx,
)
from documents.models import Document
from tests.factories import upload_document

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
    "workbook_xlsx",
]


def scan_document(
    client: Client,
    content: bytes,
    *,
    filename: str = "scan.png",
    title: str = "",
    **fields,
) -> Document:
    """A document (version 1, OCR pending) uploaded through the upload service
    (`document_create`: sniffed type, checks, storage). Its OCR is queued for the
    commit, which a test's transaction never reaches unless it runs the on-commit
    callbacks itself."""
    return upload_document(client, None, content, filename, title=title, **fields)
