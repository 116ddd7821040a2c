"""Reminder emails to clients about overdue requested documents.

What is reminded: an open request with at least one item the client still owes
(open, or rejected and waiting for a new upload) whose due date has passed in the
firm's time zone. Received items are the firm's turn, not the client's.

Who: every contact linked to the request's client with an email address, once
each (a contact linked twice, say as primary and billing, gets one email). One
email per contact per request lists all its overdue items, then what else is still
owed, so a client with five late items gets one email, not five.

Each email is in the firm's look (advisoros.email.branded_email) and carries the
contact's own link to the request when an app above provides one
(documents.links: the portal's opens it without a password).

How often: at most once per `DocumentSettings.reminder_every_days` per request.
The claim is one conditional UPDATE of `last_reminded_at` (`... WHERE
last_reminded_at IS NULL OR last_reminded_at < now - cadence`): PostgreSQL's row
lock makes a second worker wait and then find the condition false, so two
workers (or a rerun) never both send. The claim and the sending share a
transaction: when the mail server refuses, the claim rolls back and the next run
tries again (contacts already sent to in that failed batch may get it twice,
which is better than nobody getting it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from advisoros.email import branded_email
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.models import Membership, Organization
from clients.models import Contact
from documents.links import request_link_for
from documents.models import OWED_STATUSES, DocumentRequest, DocumentRequestItem
from documents.services.requests import has_overdue_items
from documents.services.settings import document_settings_for

logger = logging.getLogger(__name__)


def firms_with_overdue_items(*, now: datetime) -> list[int]:
    """Ids of the firms that may have reminders to send, across firms.

    Reads every firm's items: the caller runs it under `platform_bypass()`. The
    date bound is a day loose (firms' time zones differ); each firm's own run
    compares with its own today.
    """
    tomorrow = now.date() + timedelta(days=1)
    return list(
        DocumentRequestItem.objects.filter(
            status__in=OWED_STATUSES,
            due_date__lt=tomorrow,
            request__status=DocumentRequest.Status.OPEN,
        )
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
        .distinct()
    )


def _not_reminded_since(cutoff: datetime) -> Q:
    return Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=cutoff)


def requests_to_remind(
    organization: Organization, *, now: datetime, cadence_days: int
) -> QuerySet[DocumentRequest]:
    """The firm's open requests with overdue items, not reminded within the cadence."""
    return DocumentRequest.objects.filter(
        has_overdue_items(firm_today(organization)),
        _not_reminded_since(now - timedelta(days=cadence_days)),
        organization=organization,
        status=DocumentRequest.Status.OPEN,
    )


def document_request_reminders_for_firm(
    *, organization: Organization, now: datetime | None = None
) -> int:
    """Send the firm's due reminders (in its context). Returns the emails sent."""
    now = now or timezone.now()
    cadence = document_settings_for(organization).reminder_every_days
    sent = 0
    ids = list(
        requests_to_remind(organization, now=now, cadence_days=cadence)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for request_id in ids:
        try:
            sent += document_request_remind(
                organization=organization,
                request_id=request_id,
                now=now,
                cadence_days=cadence,
            )
        except Exception:
            # One undeliverable reminder must not hold back the others; its
            # claim rolled back, so the next run tries it again.
            logger.exception("Reminder for document request %s failed", request_id)
    return sent


def document_request_remind(
    *,
    organization: Organization,
    request_id: int,
    now: datetime,
    cadence_days: int,
) -> int:
    """Claim one request's reminder and email its client's contacts. Returns how
    many emails went out (0 when another worker claimed it first, or nothing is
    owed any more, or nobody has an email address)."""
    today = firm_today(organization)
    with transaction.atomic():
        claimed = DocumentRequest.objects.filter(
            _not_reminded_since(now - timedelta(days=cadence_days)),
            organization=organization,
            pk=request_id,
            status=DocumentRequest.Status.OPEN,
        ).update(
            last_reminded_at=now,
            reminder_count=F("reminder_count") + 1,
            updated_at=now,
        )
        if not claimed:
            return 0
        request = DocumentRequest.objects.select_related("client", "created_by").get(
            organization=organization, pk=request_id
        )
        owed = list(
            DocumentRequestItem.objects.filter(
                organization=organization, request=request, status__in=OWED_STATUSES
            ).order_by(F("due_date").asc(nulls_last=True), "position", "id")
        )
        overdue = [i for i in owed if i.overdue_on(today)]
        contacts = list(
            Contact.objects.filter(
                organization=organization, client_contacts__client=request.client
            )
            .exclude(email="")
            .distinct()
            .order_by("last_name", "first_name", "id")
        )
        if not overdue or not contacts:
            # Nothing to say, or nobody to say it to: no reminder is recorded.
            transaction.set_rollback(True)
            return 0
        later = [i for i in owed if i not in overdue]
        reply_to = _reply_to(organization, request)
        messages = [
            _email(
                organization,
                request,
                contact,
                overdue=overdue,
                later=later,
                reply_to=reply_to,
            )
            for contact in contacts
        ]
        mailers.default.send_messages(messages)
    return len(messages)


def _reply_to(organization: Organization, request: DocumentRequest) -> list[str]:
    """Answers go to the member who made the request, while they are in the firm."""
    author = request.created_by
    if (
        author is not None
        and author.is_active
        and Membership.objects.filter(
            organization=organization, user=author, is_active=True
        ).exists()
    ):
        return [author.email]
    return []


def _email(
    organization: Organization,
    request: DocumentRequest,
    contact: Contact,
    *,
    overdue: list[DocumentRequestItem],
    later: list[DocumentRequestItem],
    reply_to: list[str],
) -> EmailMessage:
    # A fresh link of the contact's own when an app provides one (the portal's
    # opens this request without a password); the text says what to do without.
    url = request_link_for(request=request, contact=contact)
    count = len(overdue)
    subject = (
        f"{organization.name}: {count} document{'' if count == 1 else 's'} "
        f"still needed for {request.client.display_name}"
    )
    return branded_email(
        organization,
        subject=subject,
        to=[contact.email],
        text_template="documents/email/request_reminder.txt",
        context={
            "request": request,
            "client": request.client,
            "contact": contact,
            "overdue": overdue,
            "later": later,
            "url": url,
        },
        reply_to=reply_to,
        button=("Upload your documents", url) if url else None,
    )
