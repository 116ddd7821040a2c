"""Documents' panel on the firm dashboard (slot "dashboard", advisoros/panels.py):
the documents waiting for review, as the review queue counts them.

OCR marks a document "needs review" when its reading is unsure (low
confidence, a suggested category to confirm) and "failed" when it could not
read it; both wait in the review queue (documents/views/review.py) for a
person. Only the documents the member may see count.

Two queries whatever the firm's size: the queue's counts and its oldest
documents with their clients.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.row_urls import row_url
from documents.models import OcrStatus
from documents.selectors import review_queue_counts, visible_documents

OLDEST_SHOWN = 5


def dashboard_review_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    # Query: how many documents wait for review, and how many OCR could not read.
    counts = review_queue_counts(request)
    # Query: the documents waiting longest for review, with their clients.
    oldest = list(
        visible_documents(request)
        .filter(
            is_latest_version=True,
            archived_at__isnull=True,
            ocr_status=OcrStatus.NEEDS_REVIEW,
        )
        .select_related("client")
        .only("uuid", "title", "created_at", "client__display_name")
        .order_by("created_at", "id")[:OLDEST_SHOWN]
    )
    document_url = row_url(
        "documents:document_detail",
        "document_uuid",
        org_slug=request.organization.slug,
    )
    for document in oldest:
        document.url = document_url(document.uuid)
    return {"organization": request.organization, "counts": counts, "oldest": oldest}


register_panel(
    "dashboard",
    template="documents/panels/dashboard_review.html",
    context=dashboard_review_context,
    order=200,
)
