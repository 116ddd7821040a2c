"""QuickBooks jobs: ids in, run in the firm's context (advisoros.tenancy.tasks).

- `webhook_event_process`: an event recorded by the webhook. The sync (the
  next part of issue 14) reads the entity by id; until it exists the job only
  marks the event `received_for_sync`, so the sync's first run finds what
  Intuit told us about (by connection and status).
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
from advisoros.tenancy.tasks import enqueue_for_organizations, job_retry
from integrations.quickbooks.models import (
    ConnectionStatus,
    QuickBooksConnection,
    WebhookEvent,
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
    """Hand a recorded event to the sync. Idempotent: only a queued event moves."""
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update()
            .filter(organization=organization, pk=event_id)
            .first()
        )
        if event is None:
            return "skipped: no such event"
        if event.status != WebhookEvent.Status.QUEUED:
            return f"skipped: already {event.status}"
        event.status = WebhookEvent.Status.RECEIVED_FOR_SYNC
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "processed_at", "updated_at"])
    return f"{event.entity_name} {event.entity_id}: waiting for the sync"


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
