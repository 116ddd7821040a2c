"""QuickBooks jobs: ids in, run in the firm's context (advisoros.tenancy.tasks).

- `webhook_event_process`: an event recorded by the webhook: the entity is
  read again by id and applied (integrations.quickbooks.sync).
- `quickbooks_sync` (a run, from the page's button), `quickbooks_sync_due`
  (the schedule: one `quickbooks_sync_firm` per firm with its books
  connected), `sync_issue_retry` (an error item's Retry).
- `reconnect_email_send`: once per "reconnect" episode, to owners and admins.
- `quickbooks_expiry_check` (daily): a refresh token near its rolling expiry
  is refreshed (that renews it); one near its hard expiry (five years after
  consent: only a new sign-in helps) is announced to owners and admins once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from advisoros.email import absolute_url
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Membership, Organization, Role
from advisoros.tenancy.tasks import (
    enqueue_for_organization,
    enqueue_for_organizations,
    job_retry,
)
from integrations.quickbooks.client import QuickBooksError
from integrations.quickbooks.ledger import ledger_event_receive
from integrations.quickbooks.models import (
    ConnectionKind,
    ConnectionStatus,
    QuickBooksConnection,
    SyncIssue,
    WebhookEvent,
)
from integrations.quickbooks.sync import (
    PULL,
    SyncRefused,
    quickbooks_sync_run,
    sync_object_pull,
)
from integrations.quickbooks.tokens import (
    NeedsReconnect,
    TokenRefreshFailed,
    connection_access_token,
    reconnect_flags_prime,
)

logger = logging.getLogger(__name__)

# A rolling expiry this close is renewed by refreshing now.
RENEW_BEFORE = timedelta(days=14)


def _admin_emails(organization: Organization) -> list[str]:
    return sorted(
        Membership.objects.filter(
            organization=organization,
            is_active=True,
            role__in=(Role.OWNER, Role.ADMIN),
        ).values_list("user__email", flat=True)
    )


def _page(organization: Organization) -> str:
    return absolute_url(reverse("quickbooks:connection", args=[organization.slug]))


def _what(connection: QuickBooksConnection) -> str:
    if connection.client_id:
        return f"{connection.client.display_name}'s QuickBooks company"
    return "the firm's QuickBooks company"


@job_retry(attempts=3, backoff_seconds=60)
def webhook_event_process(*, organization: Organization, event_id: int) -> str:
    """Apply what an event names: the entity is read again by id (the event
    carries ids only) and applied as a sync run would, so a replay, a retry
    or an event older than the last run changes nothing. Intuit is read
    before anything is written here. Events of a client's books wait for the
    ledger's next pull (`received_for_sync`); the first one waiting queues it
    (integrations.quickbooks.ledger.ledger_event_receive)."""
    event = (
        WebhookEvent.objects.select_related("connection")
        .filter(organization=organization, pk=event_id)
        .first()
    )
    if event is None:
        return "skipped: no such event"
    if event.status != WebhookEvent.Status.QUEUED:
        return f"skipped: already {event.status}"
    connection = event.connection
    if connection.kind != ConnectionKind.FIRM:
        queued = ledger_event_receive(event=event)
        return f"{event.entity_name} {event.entity_id}: waiting for the ledger" + (
            ", pull queued" if queued else ""
        )
    operation = event.type.split(".")[2] if event.type.count(".") >= 2 else ""
    status, error, outcome = WebhookEvent.Status.PROCESSED, "", ""
    if event.entity_name not in PULL or operation == "deleted":
        # Deletions are left to a person: our invoices and payments are
        # never removed by the sync (docs/decisions.md).
        status, outcome = WebhookEvent.Status.IGNORED, "not synced"
    elif not connection.is_connected:
        status, outcome = WebhookEvent.Status.IGNORED, "not connected"
    else:
        try:
            outcome = sync_object_pull(
                connection=connection,
                entity=event.entity_name,
                qbo_id=event.entity_id,
            )
        except QuickBooksError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                raise  # tried again by the job's retries
            status, error = WebhookEvent.Status.FAILED, str(exc)[:1000]
            outcome = "refused"
    with transaction.atomic():
        WebhookEvent.objects.filter(
            organization=organization,
            pk=event.pk,
            status=WebhookEvent.Status.QUEUED,
        ).update(
            status=status,
            error=error,
            processed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return f"{event.entity_name} {event.entity_id}: {outcome}"


def quickbooks_sync(
    *, organization: Organization, connection_id: int, full: bool = False
) -> str:
    """One sync run of the firm's books (integrations.quickbooks.sync). A
    failed run is not retried here: the next scheduled run resumes from its
    cursor, and the page shows it."""
    connection = QuickBooksConnection.objects.filter(
        organization=organization, pk=connection_id
    ).first()
    if connection is None:
        return "skipped: no such connection"
    try:
        run = quickbooks_sync_run(connection=connection, full=full)
    except SyncRefused as exc:
        return f"skipped: {exc}"
    if run is None:
        return "skipped: another run is under way"
    return f"{run.get_kind_display()} sync {run.status}: {run.requests_made} requests"


def quickbooks_sync_queue(connection: QuickBooksConnection, *, full: bool = False):
    """Queue one run of `connection` once the caller's transaction commits."""
    enqueue_for_organization(
        "integrations.quickbooks.tasks.quickbooks_sync",
        connection.organization,
        connection_id=connection.pk,
        full=full,
    )


def quickbooks_sync_due() -> int:
    """The schedule: an incremental run for every firm whose own books are
    connected (listed under the platform bypass). Returns how many firms."""
    with platform_bypass():
        firm_ids = set(
            QuickBooksConnection.objects.filter(
                kind=ConnectionKind.FIRM, status=ConnectionStatus.CONNECTED
            ).values_list("organization_id", flat=True)
        )
    return enqueue_for_organizations(
        "integrations.quickbooks.tasks.quickbooks_sync_firm", firm_ids
    )


def quickbooks_sync_firm(*, organization: Organization) -> int:
    """The firm's share of the schedule. Returns 1 when a run was made."""
    connection = QuickBooksConnection.objects.filter(
        organization=organization,
        kind=ConnectionKind.FIRM,
        status=ConnectionStatus.CONNECTED,
    ).first()
    if connection is None:
        return 0
    return 1 if quickbooks_sync_run(connection=connection) is not None else 0


def sync_issue_retry(*, organization: Organization, issue_id: int) -> str:
    """An error item's Retry: a read from QuickBooks is read and applied
    again by id; a write to QuickBooks is made by a run (which writes
    everything of ours still missing there)."""
    issue = (
        SyncIssue.objects.select_related("connection")
        .filter(organization=organization, pk=issue_id)
        .first()
    )
    if issue is None or issue.status != SyncIssue.Status.OPEN:
        return "skipped: not open"
    if issue.direction == SyncIssue.Direction.PULL:
        try:
            return sync_object_pull(
                connection=issue.connection, entity=issue.entity, qbo_id=issue.key
            )
        except SyncRefused as exc:
            return f"skipped: {exc}"
        except QuickBooksError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                raise
            SyncIssue.objects.filter(pk=issue.pk).update(
                attempts=issue.attempts + 1, message=str(exc)[:2000]
            )
            return "refused"
    try:
        run = quickbooks_sync_run(connection=issue.connection)
    except SyncRefused as exc:
        return f"skipped: {exc}"
    return "run" if run is not None else "skipped: another run is under way"


def reconnect_email_send(*, organization: Organization, connection_id: int) -> str:
    connection = (
        QuickBooksConnection.objects.select_related("client")
        .filter(organization=organization, pk=connection_id)
        .first()
    )
    if connection is None or connection.status != ConnectionStatus.RECONNECT:
        return "skipped: connection is not waiting for a reconnect"
    to = _admin_emails(organization)
    if not to:
        return "skipped: nobody to tell"
    ctx = {
        "organization": organization,
        "connection": connection,
        "what": _what(connection),
        "link": _page(organization),
    }
    send_mail(
        subject=f"Reconnect QuickBooks for {organization.name}",
        message=render_to_string("integrations/quickbooks/email/reconnect.txt", ctx),
        from_email=None,
        recipient_list=to,
    )
    return f"sent to {len(to)}"


def _due(now) -> Q:
    warn = now + timedelta(days=settings.QUICKBOOKS_EXPIRY_WARNING_DAYS)
    return Q(status=ConnectionStatus.CONNECTED) & (
        Q(refresh_expires_at__lte=now + RENEW_BEFORE)
        | Q(refresh_hard_expires_at__lte=warn, expiry_warned_at__isnull=True)
    )


def quickbooks_expiry_check() -> int:
    """Daily: queue the firm job of each firm with a connection due, and put
    the reconnect banner's flag back for each firm with a connection waiting
    (both listed under the platform bypass, nothing else read). Returns how
    many firms were queued."""
    with platform_bypass():
        firm_ids = set(
            QuickBooksConnection.objects.filter(_due(timezone.now())).values_list(
                "organization_id", flat=True
            )
        )
        waiting = set(
            QuickBooksConnection.objects.filter(
                status=ConnectionStatus.RECONNECT
            ).values_list("organization_id", flat=True)
        )
    reconnect_flags_prime(waiting)
    return enqueue_for_organizations(
        "integrations.quickbooks.tasks.quickbooks_expiry_check_job", firm_ids
    )


def quickbooks_expiry_check_job(*, organization: Organization) -> int:
    """Renew what a refresh renews; warn once of each hard expiry ahead.
    Returns how many warnings were emailed."""
    now = timezone.now()
    warned = 0
    due = QuickBooksConnection.objects.select_related("client").filter(
        _due(now), organization=organization
    )
    for connection in due:
        if connection.refresh_expires_at and (
            connection.refresh_expires_at <= now + RENEW_BEFORE
        ):
            try:
                connection_access_token(connection, force=True)
            except (NeedsReconnect, TokenRefreshFailed) as exc:
                logger.warning(
                    "Firm %s: QuickBooks company %s not renewed: %s",
                    organization.pk,
                    connection.realm_id,
                    exc,
                )
        hard = connection.refresh_hard_expires_at
        limit = now + timedelta(days=settings.QUICKBOOKS_EXPIRY_WARNING_DAYS)
        if hard and hard <= limit and connection.expiry_warned_at is None:
            to = _admin_emails(organization)
            ctx = {
                "organization": organization,
                "connection": connection,
                "what": _what(connection),
                "expires": hard,
                "link": _page(organization),
            }
            if to:
                send_mail(
                    subject=f"QuickBooks needs a new sign-in by {hard:%b %-d, %Y}",
                    message=render_to_string(
                        "integrations/quickbooks/email/expiry.txt", ctx
                    ),
                    from_email=None,
                    recipient_list=to,
                )
                warned += 1
            QuickBooksConnection.objects.filter(pk=connection.pk).update(
                expiry_warned_at=now
            )
    return warned
