"""The audit app's schedules (installed by `manage.py setup_schedules`).

Each one queues a job per firm (advisoros.audit.tasks)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Every 5 minutes: seal the change-log entries written since the last seal.
    ScheduledJob(
        "audit change-log seals", "advisoros.audit.tasks.changelog_seal_run", 5
    ),
    # Hourly: a signed checkpoint of each firm's audit trail in the file store.
    ScheduledJob("audit checkpoints", "advisoros.audit.tasks.audit_checkpoint_run", 60),
]
