"""Background jobs of the workflows app. Thin: ids in, the firm's context, a service.

Scheduled jobs (`manage.py setup_schedules`) are cross-firm: they list the firms
with work to do under the platform bypass, then queue one job per firm through
`enqueue_for_organization`, so each firm's run has its own context, retries and,
when it fails for good, a line on that firm's failed-jobs page.
"""

from __future__ import annotations

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.services.engagements import firm_today


def _fan_out(func: str, organization_ids) -> int:
    organizations = list(Organization.objects.filter(pk__in=set(organization_ids)))
    for organization in organizations:
        enqueue_for_organization(func, organization)
    return len(organizations)


def recurring_executions_run() -> int:
    """Scheduled hourly: queue the recurring-workflow job of every firm that has an
    active schedule. Returns how many firms were queued."""
    from workflows.models import RecurringSchedule

    with platform_bypass():
        firms = list(
            RecurringSchedule.objects.filter(is_active=True)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return _fan_out("workflows.tasks.recurring_executions_job", firms)


def recurring_executions_job(*, organization: Organization) -> int:
    """Create the recurring workflows whose time has come"""
    from workflows.services.recurrence import recurring_executions_create

    return recurring_executions_create(
        organization=organization, today=firm_today(organization)
    )
