"""Background jobs of the clients app. Thin: ids in, the firm's context, a service."""

from __future__ import annotations

import logging

from django.utils import timezone

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations
from clients.services.notes import firms_with_notes_due, note_reminder_send, notes_due

logger = logging.getLogger(__name__)


def note_reminders_send() -> int:
    """Scheduled every 5 minutes (clients/schedules.py): queue the note-reminder
    job of every firm with a reminder due. Returns how many firms were queued."""
    with platform_bypass():
        firms = firms_with_notes_due(now=timezone.now())
    return enqueue_for_organizations("clients.tasks.note_reminders_job", firms)


def note_reminders_job(*, organization: Organization) -> int:
    """Email the firm's due note reminders to their authors

    One reminder that cannot be delivered does not hold back the others: it is
    logged and stays due, so the next run (five minutes on) tries it again.
    Anything else that fails fails the job (retried, then listed on the firm's
    failed-jobs page). Safe to run twice: each note is claimed under a row lock
    and marked reminded. Returns how many emails went out.
    """
    sent = 0
    for note_id in notes_due(organization=organization, now=timezone.now()):
        try:
            sent += note_reminder_send(organization=organization, note_id=note_id)
        except Exception:
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
