"""The Stripe integration's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Events recorded but left unprocessed (a lost job, Stripe down for long):
    # their jobs queued again (integrations.stripe.tasks).
    ScheduledJob(
        "Stripe events left queued",
        "integrations.stripe.tasks.stripe_events_requeue",
        30,
    ),
]
