"""The workflows app's schedules (installed by `manage.py setup_schedules`).

Each one queues a job per firm with work to do (workflows.tasks)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Hourly: each firm's recurring workflows whose creation date has come.
    ScheduledJob("recurring workflows", "workflows.tasks.recurring_executions_run", 60),
    # Hourly: due-soon and overdue task notices (once per task and person).
    ScheduledJob("task due notices", "workflows.tasks.task_due_notifications_run", 60),
    # Every 15 minutes: email digests (at most one an hour per person and firm).
    ScheduledJob("notification emails", "workflows.tasks.notifications_email_run", 15),
]
