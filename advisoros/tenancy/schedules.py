"""The core's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Hourly: delete the data of firms whose scheduled deletion day has come.
    ScheduledJob(
        "firm deletions", "advisoros.tenancy.offboarding.firm_deletions_run", 60
    ),
    # Hourly: delete built firm exports past their keeping time.
    ScheduledJob(
        "firm exports expiry", "advisoros.tenancy.export.firm_exports_expire_run", 60
    ),
]
