"""Document events on the client timeline (clients.timeline registry)."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat

from advisoros.row_urls import row_url
from clients.models import Client
from clients.timeline import TimelineItem, register_timeline_source
from documents.selectors import documents_visible_to


@register_timeline_source
def document_items(client: Client, *, viewer, limit: int):
    """Uploads and new versions the viewer may see: one query."""
    versions = (
        documents_visible_to(viewer)
        .filter(client=client)
        .select_related("uploaded_by", "uploaded_by_contact", "restored_from")
        .defer("ocr_text", "search_vector")
        .order_by("-created_at", "-pk")[:limit]
    )
    detail_url = row_url(
        "documents:document_detail",
        "document_uuid",
        org_slug=viewer.organization.slug,
    )
    for document in versions:
        if document.restored_from is not None:
            title = (
                f"Version {document.version} of {document.title}: restored from"
                f" version {document.restored_from.version}"
            )
        elif document.version > 1:
            title = f"New version {document.version} of {document.title}"
        else:
            title = f"Document uploaded: {document.title}"
        year = f" {document.tax_year}" if document.tax_year else ""
        actor = document.uploaded_by or document.uploaded_by_contact or ""
        yield TimelineItem(
            when=document.created_at,
            kind="document",
            title=title,
            detail=(
                f"{document.get_category_display()}{year} ·"
                f" {document.original_filename} · {filesizeformat(document.size)}"
            ),
            actor=str(actor),
            url=detail_url(document.uuid),
        )
