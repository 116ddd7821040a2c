"""The reports app's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Hourly: each firm's scheduled statements whose month has closed and whose
    # trial balance is in (once per period).
    ScheduledJob("scheduled statements", "reports.tasks.statement_schedules_run", 60),
]
