"""Documents with real files in the test's storage, for the request and retention
tests (written directly: these tests are about what happens to documents later,
not about uploading them, which tests/documents/test_upload*.py cover)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db.models import Max

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from documents.models import Document
from documents.services.retention import retention_date_for


def stored_document(
    client: Client,
    *,
    title: str = "W-2 2024",
    content: bytes | None = None,
    category: str = "w2",
    **fields,
) -> Document:
    """A document (version 1) whose file is in default storage."""
    content = content if content is not None else f"%PDF-1.4 {title}".encode()
    with tenant_context(client.organization):
        document = Document(
            organization=client.organization,
            client=client,
            title=title,
            original_filename=f"{title}.pdf",
            size=len(content),
            mime_type="application/pdf",
            checksum=hashlib.sha256(content).hexdigest(),
            category=category,
            **fields,
        )
        if "retention_until" not in fields:  # as the upload service does
            document.retention_until = retention_date_for(document)
        document.file.save("ignored.pdf", ContentFile(content), save=False)
        document.save()
        return document


def stored_version(document: Document, *, content: bytes | None = None) -> Document:
    """A new latest version of `document`'s lineage, with its own file."""
    with tenant_context(document.organization):
        root_id = document.root_id
        lineage = Document.objects.filter(pk=root_id) | Document.objects.filter(
            parent_document_id=root_id
        )
        number = lineage.aggregate(n=Max("version"))["n"] + 1
        lineage.update(is_latest_version=False)
        content = content if content is not None else f"version {number}".encode()
        root = Document.objects.get(pk=root_id)
        version = Document(
            organization=root.organization,
            client=root.client,
            title=root.title,
            original_filename=root.original_filename,
            size=len(content),
            mime_type=root.mime_type,
            checksum=hashlib.sha256(content).hexdigest(),
            category=root.category,
            tax_year=root.tax_year,
            parent_document=root,
            version=number,
            legal_hold=root.legal_hold,
            legal_hold_reason=root.legal_hold_reason,
        )
        version.retention_until = retention_date_for(version)
        version.file.save("ignored.pdf", ContentFile(content), save=False)
        version.save()
        return version


def new_client(organization, display_name: str, **data) -> Client:
    """A client made through the clients service (as tests/clients' make_client)."""
    from clients.services.clients import client_create

    with tenant_context(organization):
        return client_create(
            organization=organization, data={"display_name": display_name, **data}
        )
