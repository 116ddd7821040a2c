"""Create or update the django-q2 schedules. Idempotent: run it on every start.

It lives in the clients app for now because the project package may not import
apps (advisoros must not depend on clients); later apps add their lines to
SCHEDULES until the list moves somewhere shared.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_q.models import Schedule

# (name, function path, every N minutes)
SCHEDULES = [
    ("note reminders", "clients.tasks.note_reminders_send", 5),
    # Hourly; each firm's cadence (DocumentSettings.reminder_every_days) is
    # enforced per request inside the job.
    (
        "document request reminders",
        "documents.tasks_scheduled.document_request_reminders_send",
        60,
    ),
    # Daily: archives documents past retention (purging stays a person's decision).
    (
        "documents retention sweep",
        "documents.tasks_scheduled.documents_retention_sweep",
        24 * 60,
    ),
    # Daily: temporary files of uploads that died mid-way (documents.upload).
    (
        "abandoned uploads sweep",
        "documents.tasks_scheduled.documents_incoming_sweep",
        24 * 60,
    ),
    # Hourly: each firm's recurring workflows whose creation date has come.
    ("recurring workflows", "workflows.tasks.recurring_executions_run", 60),
    # Hourly: due-soon and overdue task notices (once per task and person).
    ("task due notices", "workflows.tasks.task_due_notifications_run", 60),
    # Every 15 minutes: email digests (at most one an hour per person and firm).
    ("notification emails", "workflows.tasks.notifications_email_run", 15),
]


class Command(BaseCommand):
    help = (
        "Create or update the background schedules (note reminders). Safe to run again."
    )

    def handle(self, *args, **options):
        for name, func, minutes in SCHEDULES:
            # Keyed by the function path: a renamed schedule is updated, not doubled.
            _, created = Schedule.objects.update_or_create(
                func=func,
                defaults={
                    "name": name,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} schedule {name!r}: {func} every {minutes} min.")
