"""The accounts app's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Daily: sign-ups whose confirmation link has expired (they hold a password hash).
    ScheduledJob(
        "expired sign-ups", "advisoros.accounts.signup.signups_expired_delete", 60 * 24
    ),
]
