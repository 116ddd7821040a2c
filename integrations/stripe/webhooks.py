"""Webhook intake: verify, record, queue, answer (the view is views.stripe_webhook).

Each firm has its own URL, /webhooks/stripe/<webhook_token>/, so an event names
its firm before a byte of it is read. The intake:

1. finds the firm by the token (unknown token: 404) — the one read across firms,
   under the platform bypass, of one indexed unique column;
2. checks the `Stripe-Signature` header against the raw body with the firm's
   signing secret, 300 s tolerance (forged or stale: 400, nothing recorded);
3. in ONE transaction, inserts the StripeEvent under its unique (firm, event
   id) constraint and queues its job with `transaction.on_commit`: the event
   and its job exist together or not at all; a duplicate (Stripe's retry, a
   replay) hits the constraint and is answered 200 with nothing done;
4. answers 200 at once. The work (reading Stripe, recording payments) is the
   job's (integrations.stripe.tasks), so a slow Stripe never makes Stripe's
   delivery time out and retry.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import stripe
from django.db import IntegrityError, transaction

from advisoros.tenancy.db import platform_bypass, tenant_context
from integrations.stripe.models import StripeAccount, StripeEvent
from integrations.stripe.tasks import stripe_event_queue

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Received:
    status: int
    message: str


def account_for_token(token) -> StripeAccount | None:
    """PLATFORM BYPASS: the firm is not known yet; the token names it."""
    with platform_bypass():
        return (
            StripeAccount.objects.select_related("organization")
            .defer("secret_key")  # not needed here: not decrypted
            .filter(webhook_token=token)
            .first()
        )


def webhook_receive(*, token, body: bytes, signature: str | None) -> Received:
    account = account_for_token(token)
    if account is None:
        return Received(404, "Unknown webhook.")
    organization = account.organization
    if not account.webhook_secret:
        logger.warning(
            "Firm %s: a Stripe event arrived before the signing secret was saved",
            organization.pk,
        )
        return Received(400, "No signing secret is saved for this webhook yet.")
    try:
        stripe.WebhookSignature.verify_header(
            body, signature, account.webhook_secret, TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        logger.warning(
            "Firm %s: Stripe webhook refused: %s", organization.pk, str(exc)[:200]
        )
        return Received(400, "Bad signature.")
    try:
        payload = json.loads(body)
    except ValueError:
        return Received(400, "Not JSON.")
    event_id, event_type = _event_fields(payload)
    if not event_id:
        return Received(400, "Not a Stripe event.")
    with tenant_context(organization):
        try:
            with transaction.atomic():
                event = StripeEvent.objects.create(
                    organization=organization,
                    event_id=event_id,
                    type=event_type,
                    payload=payload,
                )
                stripe_event_queue(event, organization)
        except IntegrityError:
            return Received(200, "Already received.")
    return Received(200, "Received.")


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
