"""The billing app's schedules (installed by `manage.py setup_schedules`).

Each one queues a job per firm with work to do (billing.tasks). Both run hourly
and act on each firm's own date, so a firm's day is done at the first run after
its midnight; a run that finds the day done does nothing."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Each firm's recurring invoices whose date has come (once per period).
    ScheduledJob("recurring invoices", "billing.tasks.recurring_invoices_run", 60),
    # Overdue invoices: marked, charged the late fee once, reminded at the cadence.
    ScheduledJob("overdue invoices", "billing.tasks.overdue_invoices_run", 60),
]
