"""The client ledgers' jobs: ids in, run in the firm's context
(advisoros.tenancy.tasks), as integrations/quickbooks/tasks.py.

- `client_ledger_pull_job`: one pull of a client's books into its ledger
  (integrations.quickbooks.ledger), queued by "Pull now", by the first event
  of that company waiting (webhook_event_process) and by the schedule.
- `client_ledger_pull_due` (every 15 minutes): one `client_ledger_pull_firm`
  per firm with a client ledger due: events waiting that no pull took (a pull
  was under way when they came), or no pull for
  settings.QUICKBOOKS_LEDGER_STALE_HOURS (a day: without webhooks, or had one
  been lost, the ledger is at most a day behind; the new month begins too).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organizations
from integrations.quickbooks.ledger import (
    LedgerRefused,
    client_ledger_pull,
    client_ledger_pull_queue,
    ledger_events_waiting,
)
from integrations.quickbooks.models import (
    ConnectionKind,
    ConnectionStatus,
    QuickBooksConnection,
    WebhookEvent,
)


def client_ledger_pull_job(
    *, organization: Organization, connection_id: int, full: bool = False
) -> str:
    """One pull. A failed pull is not retried here: the next one (the
    schedule's, an event's, Pull now) resumes from its cursor, and the pages
    show the failure."""
    connection = (
        QuickBooksConnection.objects.select_related("client", "organization")
        .filter(organization=organization, pk=connection_id)
        .first()
    )
    if connection is None:
        return "skipped: no such connection"
    try:
        run = client_ledger_pull(connection=connection, full=full)
    except LedgerRefused as exc:
        return f"skipped: {exc}"
    if run is None:
        return "skipped: another pull is under way"
    if ledger_events_waiting(connection):
        # Events came while this pull ran; the pull each queued found this
        # one under way. One more pull takes them.
        with transaction.atomic():
            client_ledger_pull_queue(connection)
    return f"{run.get_kind_display()} pull {run.status}: {run.requests_made} requests"


def _due(now) -> QuerySet[QuickBooksConnection]:
    """Connected client ledgers with events waiting or no recent pull."""
    stale = now - timedelta(hours=settings.QUICKBOOKS_LEDGER_STALE_HOURS)
    waiting = WebhookEvent.objects.filter(
        connection=OuterRef("pk"), status=WebhookEvent.Status.RECEIVED_FOR_SYNC
    )
    return (
        QuickBooksConnection.objects.filter(
            kind=ConnectionKind.CLIENT, status=ConnectionStatus.CONNECTED
        )
        .annotate(last_pull=Max("sync_runs__started_at"), waiting=Exists(waiting))
        .filter(Q(waiting=True) | Q(last_pull__isnull=True) | Q(last_pull__lt=stale))
    )


def client_ledger_pull_due() -> int:
    """The schedule: the firms with a client ledger due (listed under the
    platform bypass, nothing else read). Returns how many firms were queued."""
    with platform_bypass():
        firm_ids = set(_due(timezone.now()).values_list("organization_id", flat=True))
    return enqueue_for_organizations(
        "integrations.quickbooks.tasks_ledger.client_ledger_pull_firm", firm_ids
    )


def client_ledger_pull_firm(*, organization: Organization) -> int:
    """The firm's share of the schedule: one pull job per ledger due (each
    its own job: a firm with hundreds of clients' books is not one long job).
    Returns how many were queued."""
    due = list(_due(timezone.now()).filter(organization=organization))
    with transaction.atomic():
        for connection in due:
            connection.organization = organization
            client_ledger_pull_queue(connection)
    return len(due)
