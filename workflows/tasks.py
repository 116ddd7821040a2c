"""Background jobs of the workflows app. Thin: ids in, the firm's context, a service.

Scheduled jobs (`manage.py setup_schedules`) are cross-firm: they list the firms
with work to do under the platform bypass, then queue one job per firm through
`enqueue_for_organizations`, so each firm's run has its own context, retries and,
when it fails for good, a line on that firm's failed-jobs page.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations
from workflows.models import OPEN_STATUSES, Notification, RecurringSchedule, Task
from workflows.services.notifications import (
    DUE_SOON_DAYS,
    notifications_email_send,
    task_due_notifications_create,
)
from workflows.services.recurrence import recurring_executions_create


def recurring_executions_run() -> int:
    """Scheduled hourly: queue the recurring-workflow job of every firm that has an
    active schedule. Returns how many firms were queued."""
    with platform_bypass():
        firms = list(
            RecurringSchedule.objects.filter(is_active=True)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations("workflows.tasks.recurring_executions_job", firms)


def recurring_executions_job(*, organization: Organization) -> int:
    """Create the recurring workflows whose time has come"""
    return recurring_executions_create(
        organization=organization, today=firm_today(organization)
    )


def task_due_notifications_run() -> int:
    """Scheduled hourly: queue the due-soon and overdue notices of every firm with
    open assigned tasks due within two days (or overdue). Returns firms queued."""
    # Every firm's today is within a day of UTC's: a day's margin finds them all.
    horizon = timezone.now().date() + timedelta(days=DUE_SOON_DAYS + 1)
    with platform_bypass():
        firms = list(
            Task.objects.filter(
                status__in=OPEN_STATUSES,
                assignee__isnull=False,
                due_date__lte=horizon,
            )
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations(
        "workflows.tasks.task_due_notifications_job", firms
    )


def task_due_notifications_job(*, organization: Organization) -> int:
    """Tell people about their tasks due soon or overdue"""
    return task_due_notifications_create(
        organization=organization, today=firm_today(organization)
    )


def notifications_email_run() -> int:
    """Scheduled every 15 minutes: queue the email digests of every firm with
    unread notices not emailed yet. Returns firms queued."""
    with platform_bypass():
        firms = list(
            Notification.objects.filter(emailed_at__isnull=True, read_at__isnull=True)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations("workflows.tasks.notifications_email_job", firms)


def notifications_email_job(*, organization: Organization) -> int:
    """Email people a digest of their unread notifications"""
    return notifications_email_send(organization=organization)
