"""Scheduled jobs of the documents app (declared in documents/schedules.py).

The cross-firm ones list the firms they concern under the platform bypass
(nothing else is read there) and queue one job per firm through
`enqueue_for_organizations`: each firm's work runs behind both walls in its own
job, with its own retries and timeout, and a firm whose run fails for good gets
a line on its failed-jobs page without holding back the others.
"""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations
from documents.models import Document
from documents.reminders import (
    document_request_reminders_for_firm,
    firms_with_overdue_items,
)
from documents.services.retention import documents_retention_sweep_firm
from documents.upload import incoming_sweep

logger = logging.getLogger(__name__)


def document_request_reminders_send() -> int:
    """Hourly: queue the request-reminder job of every firm with overdue requested
    documents. Returns how many firms were queued."""
    with platform_bypass():
        firm_ids = firms_with_overdue_items(now=timezone.now())
    return enqueue_for_organizations(
        "documents.tasks_scheduled.document_request_reminders_job", firm_ids
    )


def document_request_reminders_job(*, organization: Organization) -> int:
    """Email clients about the documents they still owe past their due date

    At the firm's cadence (enforced per request by documents.reminders, which
    also keeps one undeliverable reminder from holding back the others). Safe to
    run twice: each request's reminder is claimed before it is sent. Returns
    the emails sent.
    """
    return document_request_reminders_for_firm(organization=organization)


def documents_incoming_sweep() -> int:
    """Daily: temporary files of uploads that never finished (the server process
    died mid-upload) removed from the local incoming folder. Not firm data: the
    folder holds bytes still on their way in, before any row exists, so this
    stays one job."""
    removed = incoming_sweep()
    if removed:
        logger.info("Removed %s abandoned upload file(s)", removed)
    return removed


def documents_retention_sweep() -> int:
    """Daily: queue the retention job of every firm that has documents. Returns
    how many firms were queued."""
    with platform_bypass():
        firm_ids = list(
            Organization.objects.filter(
                Exists(Document.objects.filter(organization=OuterRef("pk")))
            ).values_list("pk", flat=True)
        )
    return enqueue_for_organizations(
        "documents.tasks_scheduled.documents_retention_job", firm_ids
    )


def documents_retention_job(*, organization: Organization) -> int:
    """Archive the documents past their retention date

    The firm's retention dates are first brought in line with its policy (also
    queued on its own when the policy changes); the latest documents past
    retention and not on hold are archived, with one audit event and the count.
    Safe to run twice. Returns the documents archived.
    """
    return documents_retention_sweep_firm(organization=organization)
