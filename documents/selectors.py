"""Who may see which document: the one place the access rules live.

- the client must be visible to the member (the firm's assigned-only setting);
- standard: anyone who may see the client;
- restricted: owners and admins, the engagement's or the client's partner and
  manager, the uploader (of the version or of the lineage's first version), and the people named on the document (DocumentAccess,
  kept against the lineage's root so every version shares them);
- confidential: owners and admins.

Every document page, download, search and count starts from `visible_documents`.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from advisoros.tenancy.models import Membership, Role
from clients.selectors import sees_assigned_only
from documents.models import AccessLevel, Document, DocumentAccess, OcrStatus


def client_visibility_q(membership: Membership, prefix: str = "client__") -> Q:
    """The assigned-only rule on a query over something with a client."""
    if not sees_assigned_only(membership):
        return Q()
    user_id = membership.user_id
    return (
        Q(**{f"{prefix}partner_id": user_id})
        | Q(**{f"{prefix}manager_id": user_id})
        | Q(**{f"{prefix}staff_id": user_id})
    )


def document_access_q(membership: Membership) -> Q:
    """The access-level rule for a member, as a filter on Document."""
    if membership.has_role(Role.ADMIN):
        return Q()
    user_id = membership.user_id
    named = Exists(
        DocumentAccess.objects.filter(
            document_id=Coalesce(OuterRef("parent_document_id"), OuterRef("pk")),
            user_id=user_id,
        )
    )
    restricted_ok = (
        Q(engagement__partner_id=user_id)
        | Q(engagement__manager_id=user_id)
        | Q(client__partner_id=user_id)
        | Q(client__manager_id=user_id)
        # Whoever uploaded the lineage's first version, whoever added this one.
        | Q(uploaded_by_id=user_id)
        | Q(parent_document__uploaded_by_id=user_id)
        | Q(named)
    )
    return Q(access_level=AccessLevel.STANDARD) | (
        Q(access_level=AccessLevel.RESTRICTED) & restricted_ok
    )


def documents_visible_to(membership: Membership) -> QuerySet[Document]:
    """Every version of every document the member may see (tasks and commands)."""
    return Document.objects.filter(
        client_visibility_q(membership),
        document_access_q(membership),
        organization_id=membership.organization_id,
    )


def visible_documents(request) -> QuerySet[Document]:
    """The request's member's documents (all versions; add is_latest_version=True
    for lists)."""
    return documents_visible_to(request.membership)


def review_queue_counts(request) -> dict[str, int]:
    """How many of the member's documents wait in each tab of the review queue
    (one query): OCR's low-confidence reads to check, and its failures."""
    return (
        visible_documents(request)
        .filter(
            is_latest_version=True,
            archived_at__isnull=True,
            ocr_status__in=(OcrStatus.NEEDS_REVIEW, OcrStatus.FAILED),
        )
        .aggregate(
            review=Count("pk", filter=Q(ocr_status=OcrStatus.NEEDS_REVIEW)),
            failed=Count("pk", filter=Q(ocr_status=OcrStatus.FAILED)),
        )
    )
