"""Background jobs of the clients app. Thin: ids in, the firm's context, a service."""

from __future__ import annotations

import logging
from itertools import groupby

from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.services.notes import note_reminder_send, notes_due

logger = logging.getLogger(__name__)


def note_reminders_send() -> int:
    """Scheduled every few minutes (`manage.py setup_schedules`): due note reminders.

    A cross-firm job: it finds the due notes of every firm under the platform
    bypass, then sends each firm's reminders inside that firm's own context.
    Returns how many emails went out.
    """
    with platform_bypass():
        due = sorted(notes_due(now=timezone.now()))
    sent = 0
    for organization_id, pairs in groupby(due, key=lambda pair: pair[0]):
        organization = Organization.objects.get(pk=organization_id)
        with tenant_context(organization):
            for _, note_id in pairs:
                try:
                    sent += note_reminder_send(
                        organization=organization, note_id=note_id
                    )
                except Exception:
                    # One undeliverable reminder must not hold back the others;
                    # it stays due and is tried again on the next run.
                    logger.exception("Reminder for note %s failed", note_id)
    return sent
