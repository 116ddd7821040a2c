"""Emails the portal sends to clients about their requests."""

from __future__ import annotations

from advisoros.email import absolute_url, branded_email
from advisoros.tenancy.models import Organization
from documents.models import (
    Document,
    DocumentRequest,
    DocumentRequestItem,
    DocumentSource,
)
from portal.models import PortalGrant
from portal.services.links import request_link_create, request_link_url


def request_item_review_email(
    *, item: DocumentRequestItem, organization: Organization
) -> int:
    """Tell the contacts who sent files for the item that the firm accepted or
    refused them (with the reason). Returns how many emails went out."""
    from django.urls import reverse

    request = item.request
    contacts = {
        d.uploaded_by_contact
        for d in Document.objects.filter(
            request_item=item, source=DocumentSource.PORTAL
        ).select_related("uploaded_by_contact")
        if d.uploaded_by_contact is not None and d.uploaded_by_contact.email
    }
    if not contacts:
        return 0
    revoked = set(
        PortalGrant.objects.filter(
            client_id=request.client_id, revoked_at__isnull=False
        ).values_list("contact_id", flat=True)
    )
    accepted = item.status == DocumentRequestItem.Status.ACCEPTED
    page = absolute_url(
        reverse(
            "portal:request_detail",
            kwargs={"org_slug": organization.slug, "request_uuid": request.uuid},
        )
    )
    sent = 0
    for contact in sorted(contacts, key=lambda c: c.pk):
        if contact.pk in revoked:
            continue
        url = page
        if request.status == DocumentRequest.Status.OPEN:
            # A fresh link: the client answers from the email, no password.
            _, token = request_link_create(
                request=request, contact=contact, created_by=None
            )
            url = request_link_url(organization, token)
        subject = (
            f"{organization.name} accepted “{item.title}”"
            if accepted
            else f"{organization.name} needs “{item.title}” again"
        )
        branded_email(
            organization,
            subject=subject,
            to=[contact.email],
            text_template="portal/email/item_reviewed.txt",
            context={
                "contact": contact,
                "item": item,
                "request": request,
                "accepted": accepted,
                "url": url,
            },
            button=("Open the request", url),
        ).send()
        sent += 1
    return sent
