"""The job that processes a recorded Stripe event (integrations.stripe.events).

Queued on commit by the webhook (integrations.stripe.webhooks) with the event's
id only; run in the firm's context by advisoros.tenancy.tasks, which retries it
with backoff when Stripe cannot be reached. The event row is locked for the
whole run and processed only while it is `queued`: a second run (a retry, a
redelivery after a killed worker, a duplicate) finds it done and does nothing.
A refusal (`EventRefused`) rolls back whatever the handler wrote and marks the
event failed with its reason; it is not retried.

The job is queued after the event's transaction commits: a process that dies in
between leaves the event recorded and `queued` with no job. So does a job that
ran out of tries while Stripe could not be reached. `stripe_events_requeue`
(every half hour, integrations/stripe/schedules.py) queues a job again for every
event still queued an hour after it arrived, for three days (Stripe's own retry
window): nothing Stripe told us is lost, and running a job twice is harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import (
    enqueue_for_organization,
    enqueue_for_organizations,
    enqueue_with_record,
    job_retry,
)
from integrations.stripe.events import EventRefused, event_handle
from integrations.stripe.models import StripeEvent
from integrations.stripe.services import stripe_account_of

logger = logging.getLogger(__name__)

PROCESS = "integrations.stripe.tasks.stripe_event_process"
REQUEUE_AFTER = timedelta(hours=1)
REQUEUE_FOR = timedelta(days=3)


def stripe_event_queue(event: StripeEvent, organization: Organization) -> None:
    """Queue the event's job in the transaction that records the event."""
    enqueue_with_record(PROCESS, organization, event_id=event.pk)


@job_retry(attempts=5, backoff_seconds=60)
def stripe_event_process(*, organization: Organization, event_id: int) -> str:
    with transaction.atomic():
        event = (
            StripeEvent.objects.select_for_update()
            .filter(organization=organization, pk=event_id)
            .first()
        )
        if event is None:
            return "skipped: no such event"
        if event.status != StripeEvent.Status.QUEUED:
            return f"skipped: already {event.status}"
        account = stripe_account_of(organization)
        summary = ""
        if account is None:
            event.status = StripeEvent.Status.FAILED
            event.error = "Stripe was disconnected before this event was processed."
        else:
            try:
                with transaction.atomic():  # a refusal leaves nothing half-written
                    outcome = event_handle(account=account, event=event)
            except EventRefused as exc:
                logger.warning(
                    "Firm %s: Stripe event %s (%s) refused: %s",
                    organization.pk,
                    event.event_id,
                    event.type,
                    exc,
                )
                event.status = StripeEvent.Status.FAILED
                event.error = str(exc)[:2000]
            else:
                event.status = outcome.status
                event.error = ""
                summary = outcome.summary
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save(
            update_fields=["status", "error", "attempts", "processed_at", "updated_at"]
        )
    return f"{event.status}: {summary or event.error}"


def _stuck(now) -> dict:
    return {
        "status": StripeEvent.Status.QUEUED,
        "created_at__lte": now - REQUEUE_AFTER,
        "created_at__gte": now - REQUEUE_FOR,
    }


def stripe_events_requeue() -> int:
    """Every half hour: queue the requeue job of each firm with events left
    queued (listed under the platform bypass, nothing else read). Returns how
    many firms were queued."""
    with platform_bypass():
        firm_ids = set(
            StripeEvent.objects.filter(**_stuck(timezone.now())).values_list(
                "organization_id", flat=True
            )
        )
    return enqueue_for_organizations(
        "integrations.stripe.tasks.stripe_events_requeue_job", firm_ids
    )


def stripe_events_requeue_job(*, organization: Organization) -> int:
    """Queue the processing job again for each of the firm's stuck events."""
    ids = list(
        StripeEvent.objects.filter(
            organization=organization, **_stuck(timezone.now())
        ).values_list("pk", flat=True)
    )
    if ids:
        logger.warning(
            "Firm %s: %s Stripe event(s) still queued; queued again",
            organization.pk,
            len(ids),
        )
    for event_id in ids:
        enqueue_for_organization(PROCESS, organization, event_id=event_id)
    return len(ids)
