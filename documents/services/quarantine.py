"""Telling the firm about a quarantined upload (documents.services.documents
quarantines it; documents.tasks runs this once the row is committed)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from advisoros.email import absolute_url
from advisoros.tenancy.models import Membership, Role
from documents.models import Document


def document_quarantine_alert(*, document_id: int) -> list[str]:
    """Email the firm's active owners and admins about a quarantined version,
    and the member who uploaded it (the upload was answered before the scan's
    verdict: documents.services.scan); returns the addresses written to."""
    document = Document.objects.select_related(
        "client", "organization", "uploaded_by", "uploaded_by_contact"
    ).get(pk=document_id)
    recipients = sorted(
        Membership.objects.filter(
            Q(role__in=[Role.OWNER, Role.ADMIN]) | Q(user_id=document.uploaded_by_id),
            organization_id=document.organization_id,
            is_active=True,
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return []
    uploader = document.uploaded_by or document.uploaded_by_contact
    ctx = {
        "document": document,
        "organization": document.organization,
        "uploader": getattr(uploader, "email", "") or "unknown",
        "link": absolute_url(
            reverse(
                "documents:document_detail",
                kwargs={
                    "org_slug": document.organization.slug,
                    "document_uuid": document.uuid,
                },
            )
        ),
    }
    send_mail(
        subject=f"Quarantined upload for {document.client.display_name}: virus found",
        message=render_to_string("documents/email/quarantine_alert.txt", ctx),
        from_email=None,
        recipient_list=recipients,
    )
    return recipients
