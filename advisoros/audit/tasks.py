"""Background jobs of the audit app: change-log seals and checkpoints, one job per firm.

The platform's own trail (rows with no firm) is sealed and checkpointed by the
scheduled entry itself, under the platform bypass.
"""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from advisoros.audit.integrity import changelog_seal, checkpoint_create
from advisoros.audit.models import ChangeLogSeal, LogEntry
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations, job_retry


def changelog_seal_run() -> int:
    """Scheduled every 5 minutes: queue the seal job of every firm with change-log
    entries past its last seal. Returns how many firms were queued."""
    with platform_bypass():
        last_sealed = (
            ChangeLogSeal.objects.filter(organization=OuterRef("pk"))
            .values("organization")
            .annotate(m=Max("last_id"))
            .values("m")
        )
        firms = list(
            Organization.objects.annotate(
                sealed=Coalesce(Subquery(last_sealed), Value(0))
            )
            .filter(
                Exists(
                    LogEntry.objects.filter(
                        organization=OuterRef("pk"), id__gt=OuterRef("sealed")
                    )
                )
            )
            .values_list("pk", flat=True)
        )
        changelog_seal(organization_id=None)
    return enqueue_for_organizations("advisoros.audit.tasks.changelog_seal_job", firms)


@job_retry(attempts=2)
def changelog_seal_job(*, organization: Organization) -> int:
    """Seal the firm's new change-log entries"""
    return len(changelog_seal(organization_id=organization.pk))


def audit_checkpoint_run() -> int:
    """Scheduled hourly: queue every firm's checkpoint job (a firm whose trail has
    not changed since its last checkpoint writes none)."""
    with platform_bypass():
        firms = list(Organization.objects.values_list("pk", flat=True))
        checkpoint_create(organization=None)
    return enqueue_for_organizations(
        "advisoros.audit.tasks.audit_checkpoint_job", firms
    )


@job_retry(attempts=3)
def audit_checkpoint_job(*, organization: Organization) -> int:
    """Write a signed checkpoint of the firm's audit trail"""
    return 1 if checkpoint_create(organization=organization) else 0
