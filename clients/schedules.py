"""The clients app's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Every 5 minutes: each firm with a note reminder due gets its own job.
    ScheduledJob("note reminders", "clients.tasks.note_reminders_send", 5),
]
