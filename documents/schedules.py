"""The documents app's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Hourly, one job per firm with overdue items; each firm's cadence
    # (DocumentSettings.reminder_every_days) is enforced per request in its job.
    ScheduledJob(
        "document request reminders",
        "documents.tasks_scheduled.document_request_reminders_send",
        60,
    ),
    # Daily, one job per firm: archives documents past retention (purging stays
    # a person's decision).
    ScheduledJob(
        "documents retention sweep",
        "documents.tasks_scheduled.documents_retention_sweep",
        24 * 60,
    ),
    # Daily, one job: temporary files of uploads that died mid-way (documents.upload).
    ScheduledJob(
        "abandoned uploads sweep",
        "documents.tasks_scheduled.documents_incoming_sweep",
        24 * 60,
    ),
]
