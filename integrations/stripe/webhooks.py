"""Webhook intake: verify, record, queue, answer (the view is views.stripe_webhook).

Each firm has its own URL, /webhooks/stripe/<webhook_token>/, so an event names
its firm before a byte of it is read. The intake:

1. finds the firm by the token (unknown token: 404) and enters its context;
2. checks the `Stripe-Signature` header against the raw body with the firm's
   signing secret, 300 s tolerance (forged or stale: 400, nothing recorded);
3. inserts the StripeEvent under its unique (firm, event id) constraint (one
   statement: its own transaction) and queues its job with
   `transaction.on_commit`: the job is queued only once the event is committed. A duplicate (Stripe's retry, a
   replay) inserts nothing and queues nothing, and is answered 200;
4. answers 200 at once. The work (reading Stripe, recording payments) is the
   job's (integrations.stripe.tasks), so a slow Stripe never makes Stripe's
   delivery time out and retry. An event whose job is lost (the process dies
   right after the commit) is queued again by the half-hourly sweep.

Every delivery Stripe makes goes through here, so it is written for speed
(bench/stripe_webhooks.py measures it): the token's firm and signing secret are
learnt once per process (a token never changes firm; the lookup is the one read
under the platform bypass) and the firm entered with `firm_context`, one
statement. A secret that no longer verifies is read again before the event is
refused, so a secret pasted anew counts at once. The event is one
`INSERT ... ON CONFLICT DO NOTHING RETURNING`, guarded by the account still
holding the token (a disconnected account records nothing), and its job's row
is written in the same transaction (`enqueue_with_record`): one commit for both,
so a duplicate costs no exception and no rollback, and a crash never keeps the
event without its job.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from uuid import UUID

import stripe
from django.db import connection, transaction
from django.utils import timezone

from advisoros.tenancy.db import firm_context, platform_bypass
from integrations.stripe.models import StripeAccount, StripeEvent
from integrations.stripe.tasks import stripe_event_queue

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300

# Webhook token -> (firm id, firm slug, signing secret), learnt once per process.
_firms_by_token: dict[UUID, tuple[int, str, str]] = {}


@dataclass(frozen=True)
class Received:
    status: int
    message: str


def _firm_of(token: UUID) -> tuple[int, str, str] | None:
    found = _firms_by_token.get(token)
    if found is None:
        # PLATFORM BYPASS: the firm is not known yet; the token names it.
        with platform_bypass():
            found = (
                StripeAccount.objects.filter(webhook_token=token)
                .values_list("organization_id", "organization__slug", "webhook_secret")
                .first()
            )
        if found is not None:
            _firms_by_token[token] = found
    return found


def webhook_receive(*, token: UUID, body: bytes, signature: str | None) -> Received:
    for _ in range(2):  # the second time after a firm's slug changed
        firm = _firm_of(token)
        if firm is None:
            return Received(404, "Unknown webhook.")
        with firm_context(firm[1], user_id=None) as organization:
            if organization is None or organization.pk != firm[0]:
                _firms_by_token.pop(token, None)
                continue
            return _receive(organization, token, firm[2], body, signature)
    return Received(404, "Unknown webhook.")


def _signature_error(secret: str, body: bytes, signature: str | None) -> str:
    """Why `body` is not signed with `secret` ("" when it is)."""
    try:
        stripe.WebhookSignature.verify_header(
            body, signature, secret, TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        return str(exc)[:200] or "bad signature"
    return ""


def _receive(organization, token: UUID, learnt: str, body: bytes, signature):
    error = _signature_error(learnt, body, signature) if learnt else "no secret"
    if error:
        # Before refusing: the secret saved now (pasted anew, or removed since).
        saved = (
            StripeAccount.objects.filter(organization=organization, webhook_token=token)
            .values_list("webhook_secret", flat=True)
            .first()
        )
        if saved is None:  # disconnected since
            _firms_by_token.pop(token, None)
            return Received(404, "Unknown webhook.")
        _firms_by_token[token] = (organization.pk, organization.slug, saved)
        if not saved:
            logger.warning(
                "Firm %s: a Stripe event arrived before the signing secret was saved",
                organization.pk,
            )
            return Received(400, "No signing secret is saved for this webhook yet.")
        if saved != learnt:
            error = _signature_error(saved, body, signature)
        if error:
            logger.warning(
                "Firm %s: Stripe webhook refused: %s", organization.pk, error
            )
            return Received(400, "Bad signature.")
    try:
        payload = json.loads(body)
    except ValueError:
        return Received(400, "Not JSON.")
    event_id, event_type = _event_fields(payload)
    if not event_id:
        return Received(400, "Not a Stripe event.")
    # One transaction: the event's row and its job's, or neither.
    with transaction.atomic():
        event = _record(organization, token, event_id, event_type, body)
        if event is not None:
            stripe_event_queue(event, organization)
    if event is None:
        if not StripeAccount.objects.filter(
            organization=organization, webhook_token=token
        ).exists():  # disconnected since the secret was learnt
            _firms_by_token.pop(token, None)
            return Received(404, "Unknown webhook.")
        return Received(200, "Already received.")
    return Received(200, "Received.")


_INSERT = (
    "INSERT INTO {table} (organization_id, uuid, created_at, updated_at, event_id,"
    " type, payload, status, attempts, error)"
    " SELECT %s, gen_random_uuid(), %s, %s, %s, %s, %s::jsonb, %s, 0, ''"
    " WHERE EXISTS (SELECT 1 FROM {accounts} a"
    " WHERE a.organization_id = %s AND a.webhook_token = %s)"
    " ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING id"
)


def _record(organization, token: UUID, event_id: str, event_type: str, body: bytes):
    """The event's row, or None when it was recorded before (a duplicate) or the
    account no longer holds the token (disconnected)."""
    now = timezone.now()
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(StripeEvent._meta.db_table),
        accounts=quote(StripeAccount._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                organization.pk,
                now,
                now,
                event_id,
                event_type,
                body.decode(),  # stored as Stripe sent it (parsed by PostgreSQL)
                StripeEvent.Status.QUEUED,
                organization.pk,
                token,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return StripeEvent(pk=row[0], organization=organization, event_id=event_id)


def _event_fields(payload) -> tuple[str, str]:
    if not isinstance(payload, dict) or payload.get("object") != "event":
        return "", ""
    event_id, event_type = payload.get("id"), payload.get("type")
    data = payload.get("data")
    if not (
        isinstance(event_id, str)
        and event_id.startswith("evt_")
        and len(event_id) <= 255
        and isinstance(event_type, str)
        and 0 < len(event_type) <= 100
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        return "", ""
    return event_id, event_type
