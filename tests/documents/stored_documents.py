"""Documents for the request and retention tests, made through the upload service
(`document_create`, `document_add_version`) with real files in the test's storage
folder. A few facts the upload service never sets (an old upload day, a hold) are
written afterwards, and the retention date follows them as the service would."""

from __future__ import annotations

from django.core.files.base import ContentFile

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from documents.models import Document
from documents.services.documents import document_add_version
from documents.services.retention import retention_date_for
from tests.factories import upload_document

# What document_create takes; anything else is written after the upload.
CREATE_FIELDS = {
    "tax_year",
    "engagement",
    "access_level",
    "uploaded_by",
    "description",
    "visible_to_client",
}


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()


def _after_upload(document: Document, fields: dict) -> Document:
    if not fields:
        return document
    explicit_retention = "retention_until" in fields
    for name, value in fields.items():
        setattr(document, name, value)
    if not explicit_retention:
        document.retention_until = retention_date_for(document)
    Document.objects.filter(pk=document.pk).update(
        **{**fields, "retention_until": document.retention_until}
    )
    return document


def stored_document(
    client: Client,
    *,
    title: str = "W-2 2024",
    content: bytes | None = None,
    category: str = "w2",
    **fields,
) -> Document:
    """A document (version 1) uploaded for `client`."""
    create = {k: v for k, v in fields.items() if k in CREATE_FIELDS}
    later = {k: v for k, v in fields.items() if k not in CREATE_FIELDS}
    document = upload_document(
        client,
        content=content if content is not None else _pdf(title),
        filename=f"{title}.pdf",
        title=title,
        category=category,
        **create,
    )
    with tenant_context(client.organization):
        return _after_upload(document, later)


def stored_version(document: Document, *, content: bytes | None = None) -> Document:
    """A new latest version of `document`'s lineage, with its own file; a legal
    hold on the lineage covers it too."""
    with tenant_context(document.organization):
        version = document_add_version(
            document=document,
            file=ContentFile(content or _pdf(f"{document.title} {document.pk} v+")),
            filename=document.original_filename,
        )
        root = Document.objects.get(pk=document.root_id)
        held = {}
        if root.legal_hold:
            held = {
                "legal_hold": True,
                "legal_hold_reason": root.legal_hold_reason,
                "retention_until": version.retention_until,
            }
        return _after_upload(version, held)
