"""Emailing a client's contact a link to one document request, in the firm's look.

A member presses "Email link" on the request page: a new link is made for the
contact (portal.services.links, audited there) and the email lists what is still
owed, with the link as its button. The token exists only in that email.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from advisoros.accounts.models import User
from advisoros.email import branded_email
from advisoros.http import client_ip
from clients.models import Contact
from documents.models import OWED_STATUSES, DocumentRequest
from portal.models import RequestLink
from portal.services.links import request_link_create, request_link_url


@transaction.atomic
def request_link_email(
    *,
    doc_request: DocumentRequest,
    contact: Contact,
    sent_by: User | None,
    request: HttpRequest | None = None,
) -> RequestLink:
    """Make a link for `contact` and email it; nothing is kept when sending fails."""
    if not contact.email:
        raise ValidationError(f"{contact.full_name} has no email address.")
    link, token = request_link_create(
        request=doc_request,
        contact=contact,
        created_by=sent_by,
        ip_address=client_ip(request) if request is not None else None,
    )
    organization = doc_request.organization
    url = request_link_url(organization, token)
    items = list(
        doc_request.items.filter(status__in=OWED_STATUSES).order_by(
            F("due_date").asc(nulls_last=True), "position", "id"
        )
    )
    branded_email(
        organization,
        subject=f"{organization.name}: documents needed for "
        f"{doc_request.client.display_name}",
        to=[contact.email],
        text_template="portal/email/request_link.txt",
        context={
            "contact": contact,
            "request": doc_request,
            "client": doc_request.client,
            "items": items,
            "url": url,
            "days": organization.portal_link_days,
        },
        reply_to=[sent_by.email] if sent_by is not None else None,
        button=("Upload your documents", url),
    ).send()
    return link
