"""Cross-firm scheduled jobs of the documents app (`manage.py setup_schedules`).

Each job lists the firms it concerns under the platform bypass (nothing else is
read there), then does each firm's work inside that firm's own context, so the
work itself runs behind both walls. One firm's failure is logged and does not
hold back the others.
"""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from documents.models import Document
from documents.reminders import (
    document_request_reminders_for_firm,
    firms_with_overdue_items,
)
from documents.services.retention import documents_retention_sweep_firm
from documents.upload import incoming_sweep

logger = logging.getLogger(__name__)


def document_request_reminders_send() -> int:
    """Hourly: email clients about overdue requested documents, at each firm's
    cadence (enforced per request by documents.reminders). Returns emails sent."""
    now = timezone.now()
    with platform_bypass():
        firm_ids = firms_with_overdue_items(now=now)
    sent = 0
    for organization in Organization.objects.filter(pk__in=firm_ids).order_by("pk"):
        with tenant_context(organization):
            try:
                sent += document_request_reminders_for_firm(
                    organization=organization, now=now
                )
            except Exception:
                logger.exception(
                    "Document request reminders of firm %s failed", organization.pk
                )
    return sent


def documents_incoming_sweep() -> int:
    """Daily: temporary files of uploads that never finished (the server process
    died mid-upload) removed from the local incoming folder. Not firm data: the
    folder holds bytes still on their way in, before any row exists."""
    removed = incoming_sweep()
    if removed:
        logger.info("Removed %s abandoned upload file(s)", removed)
    return removed


def documents_retention_sweep() -> int:
    """Daily: each firm's retention dates brought in line with its policy, and the
    latest documents past retention and not on hold archived (an audit event per
    firm with the count). Returns the documents archived."""
    now = timezone.now()
    with platform_bypass():
        firm_ids = list(
            Organization.objects.filter(
                Exists(Document.objects.filter(organization=OuterRef("pk")))
            ).values_list("pk", flat=True)
        )
    archived = 0
    for organization in Organization.objects.filter(pk__in=firm_ids).order_by("pk"):
        with tenant_context(organization):
            try:
                archived += documents_retention_sweep_firm(
                    organization=organization, now=now
                )
            except Exception:
                logger.exception("Retention sweep of firm %s failed", organization.pk)
    return archived
