"""The portal's background jobs (each runs in its firm: advisoros.tenancy.tasks)."""

from __future__ import annotations

from advisoros.tenancy.models import Organization
from documents.models import DocumentRequestItem
from portal.services.notify import request_item_review_email


def request_item_review_email_job(*, organization: Organization, item_id: int) -> int:
    """Tell the client the firm's answer on an item (emails sent)."""
    item = (
        DocumentRequestItem.objects.filter(organization=organization, pk=item_id)
        .select_related("request")
        .first()
    )
    if item is None:
        return 0
    return request_item_review_email(item=item, organization=organization)
