"""Background jobs of the reports app. Thin: ids in, the firm's context, a service.

Each is queued on commit through advisoros.tenancy.tasks, so it runs in its
firm, is retried with backoff and lands on the failed-jobs page when it fails
for good; each is safe to run twice (a built output is left alone, a
scheduled period is claimed once by a unique constraint).
"""

from __future__ import annotations

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations
from reports.models import StatementOutput, StatementSchedule
from reports.outputs import statement_output_build, statement_schedules_build


def statement_output_job(*, organization: Organization, output_id: int) -> str:
    """Draw a statement's PDF or XLSX asked for from its page."""
    output = (
        StatementOutput.objects.select_related("client", "template")
        .filter(organization=organization, pk=output_id)
        .first()
    )
    if output is None:
        return "no such output"
    return statement_output_build(output=output).status


# Scheduled: hourly, cross-firm. Each firm's job acts on the firm's own date, so
# a month is built at the first run after the firm's month-end once its trial
# balance is in the ledger; a run that finds everything built does nothing.


def statement_schedules_run() -> int:
    """Queue the scheduled-statements job of every firm with an active
    schedule. Returns the number of firms queued."""
    with platform_bypass():
        firms = list(
            StatementSchedule.objects.filter(is_active=True)
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return enqueue_for_organizations("reports.tasks.statement_schedules_job", firms)


def statement_schedules_job(*, organization: Organization) -> int:
    """Build the firm's due scheduled statements; returns the periods built."""
    return statement_schedules_build(
        organization=organization, today=firm_today(organization)
    )
