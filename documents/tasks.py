"""Background jobs of the documents app (django-q2), thin adapters over services."""

from __future__ import annotations

from documents.models import Document


def enqueue_ocr(document: Document) -> None:
    """Queue OCR of a document version once the current transaction commits."""
