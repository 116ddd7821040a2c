"""The portal's panel on the staff engagement page: the letter's signatures."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from advisoros.panels import register_panel
from clients.models import Engagement
from portal.models import LetterSignature
from portal.services.letters import letter_sha256


def engagement_signatures_context(
    request: HttpRequest, engagement: Engagement
) -> dict[str, Any] | None:
    """Every signature of the engagement's letters, each checked against the
    letter on file (read once). Hidden, without a query, when there is no letter:
    a signature needs one and a letter is replaced, never removed."""
    if not engagement.letter:
        return None
    # Query: the engagement's signatures with their signed copies.
    signatures = list(
        LetterSignature.objects.filter(
            organization_id=engagement.organization_id, engagement=engagement
        )
        .select_related("signed_copy")
        .order_by("-signed_at", "-id")
    )
    on_file = letter_sha256(engagement) if signatures else None
    for signature in signatures:
        signature.matches = signature.letter_sha256 == on_file
    return {
        "engagement": engagement,
        "signatures": signatures,
        "organization": request.organization,
    }


register_panel(
    "engagement_detail",
    template="portal/panels/engagement_signatures.html",
    context=engagement_signatures_context,
)
