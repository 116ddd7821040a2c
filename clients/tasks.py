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


def client_import_job(
    *,
    organization: Organization,
    import_id: int,
    user_id: int | None,
    remote_addr: str | None,
) -> str:
    """Import a checked CSV (queued by `client_import_queue`), all or nothing.

    An unexpected failure puts the file back to its preview with a message and
    is not retried: the person decides whether to try again.
    """
    from auditlog.context import set_actor

    from advisoros.accounts.models import User
    from clients.models import ClientImport
    from clients.services.imports import client_import_fail, client_import_run

    client_import = ClientImport.objects.get(pk=import_id, organization=organization)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        with set_actor(user, remote_addr=remote_addr):
            outcome = client_import_run(
                client_import=client_import, user=user, remote_addr=remote_addr
            )
    except Exception:
        logger.exception("Client import %s failed", client_import.uuid)
        client_import_fail(client_import=client_import)
        return "failed"
    return outcome.status
