"""The QuickBooks integration's schedules (installed by `manage.py setup_schedules`)."""

from __future__ import annotations

from advisoros.schedules import ScheduledJob

SCHEDULES = [
    # Refresh tokens near their rolling expiry renewed; hard expiries ahead
    # announced to owners and admins once (integrations.quickbooks.tasks).
    ScheduledJob(
        "QuickBooks sign-ins expiring",
        "integrations.quickbooks.tasks.quickbooks_expiry_check",
        24 * 60,
    ),
    # An incremental (CDC) sync of every firm's own books
    # (integrations.quickbooks.sync); webhooks bring changes sooner.
    ScheduledJob(
        "QuickBooks sync",
        "integrations.quickbooks.tasks.quickbooks_sync_due",
        15,
    ),
    # Clients' books into their ledgers (integrations.quickbooks.ledger): the
    # ledgers with events no pull took, or no pull for a day.
    ScheduledJob(
        "QuickBooks client ledgers",
        "integrations.quickbooks.tasks_ledger.client_ledger_pull_due",
        15,
    ),
]
