"""The platform's own Stripe account: firms subscribing to AdvisorOS.

Not a firm's Stripe account (its clients' payments: integrations.stripe.client):
one key for the installation, settings.PLATFORM_STRIPE_SECRET_KEY, and one
webhook endpoint, /webhooks/stripe/platform/, signed with
PLATFORM_STRIPE_WEBHOOK_SECRET. The plans, limits and the firm's standing are
the core's (advisoros.tenancy.plans); this module is how Stripe Billing feeds
them:

- `platform_checkout_start`: a Checkout session in `subscription` mode for a
  plan's price, for the firm's Stripe customer (made once, keyed by the firm's
  uuid); a trial still running carries over (`subscription_data.trial_end`).
- `platform_checkout_return`: back from Checkout, the session and its
  subscription are read at once, so the page is right before any webhook.
- `platform_plan_change`: the subscription's item moved to another price.
- `platform_portal_url`: Stripe's customer portal (card, invoices, cancel).
- `platform_event_receive` / `platform_event_job`: webhooks. The event id is
  recorded under a unique constraint in the transaction that queues the job;
  the job re-reads the subscription from Stripe and applies what it says now
  (`platform_subscription_sync`), so duplicates change nothing twice and the
  order of arrival does not matter.

Idempotency keys name the business action and a time bucket, so a double
click replays Stripe's first answer instead of opening a second session:
"platform:<firm uuid>:customer", "platform:<firm uuid>:checkout:<plan>:<bucket>",
"platform:<subscription id>:plan:<plan>:<bucket>",
"platform:<firm uuid>:portal:<bucket>".
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import (
    FirmSubscription,
    Organization,
    Plan,
    SubscriptionStatus,
)
from advisoros.tenancy.plans import (
    firm_subscription,
    plan_change_problems,
    subscription_apply,
    subscription_set_customer,
)
from advisoros.tenancy.tasks import enqueue_for_organization, job_retry
from integrations.stripe.models import PlatformEvent

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
JOB = "integrations.stripe.platform.platform_event_job"
# The events the endpoint is subscribed to (the README of .env.example names
# them); any other is recorded as ignored.
HANDLED = frozenset(
    {
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "checkout.session.completed",
    }
)
# Stripe's subscription statuses as ours. "incomplete" (a first payment under
# way) and "incomplete_expired" (it never came) change nothing: the firm stays
# as it was (in its trial, or canceled).
STATUSES = {
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.UNPAID,
    "paused": SubscriptionStatus.UNPAID,  # a trial ended without a card
    "canceled": SubscriptionStatus.CANCELED,
}
LIVE = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
)
CHECKOUT_BUCKET_SECONDS = 10 * 60
PORTAL_BUCKET_SECONDS = 60
# Stripe takes a Checkout trial end no sooner than 48 hours away.
MIN_TRIAL_LEFT = timedelta(hours=49)

StripeError = stripe.StripeError


def platform_client() -> stripe.StripeClient:
    """The platform's Stripe account, through the stand-in in tests
    (settings.STRIPE_API_BASE), with the same timeout and retries as a firm's."""
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.PLATFORM_STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _bucket(seconds: int) -> int:
    return int(time.time()) // seconds


def _moment(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def error_message(exc: StripeError) -> str:
    """One sentence for the owner about what went wrong with Stripe."""
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe could not be reached. Nothing was changed: try again shortly."
    detail = getattr(exc, "user_message", None) or str(exc)
    return f"Stripe refused the request ({detail[:200]}). Nothing was changed."


# The customer and the subscription's writes ------------------------------------


def platform_customer_ensure(
    *, organization: Organization, subscription: FirmSubscription, email: str
) -> str:
    """The firm's customer in the platform's Stripe account, made once."""
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    customer = platform_client().v1.customers.create(
        params={
            "name": organization.name,
            "email": email,
            "metadata": {"organization": str(organization.uuid)},
        },
        options={"idempotency_key": f"platform:{organization.uuid}:customer"},
    )
    subscription_set_customer(subscription=subscription, stripe_customer_id=customer.id)
    return customer.id


def _buyable(organization: Organization, plan: Plan) -> None:
    if not plan.stripe_price_id or not plan.is_active:
        raise ValidationError(f"{plan.name} cannot be subscribed to at the moment.")
    if problems := plan_change_problems(organization, plan):
        raise ValidationError(
            f"{organization.name} uses more than {plan.name} allows: "
            + "; ".join(problems)
            + ". Make room first, or choose a larger plan."
        )


def has_live_subscription(subscription: FirmSubscription) -> bool:
    return bool(subscription.stripe_subscription_id) and subscription.status in LIVE


def platform_checkout_start(
    *,
    organization: Organization,
    subscription: FirmSubscription,
    plan: Plan,
    email: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """Open Stripe Checkout for `plan`; returns the page to send the owner to.

    A firm with a live subscription changes its plan instead (a second
    subscription would bill it twice). ValidationError for what the owner
    can fix, StripeError for what Stripe refused or did not answer.
    """
    if has_live_subscription(subscription):
        raise ValidationError(
            "The firm already has a subscription: change its plan, or manage it "
            "in Stripe's billing page."
        )
    _buyable(organization, plan)
    customer = platform_customer_ensure(
        organization=organization, subscription=subscription, email=email
    )
    subscription_data: dict[str, Any] = {
        "metadata": {"organization": str(organization.uuid), "plan": plan.code}
    }
    trial_end = subscription.trial_ends_at
    if (
        subscription.status == SubscriptionStatus.TRIALING
        and trial_end is not None
        and trial_end - timezone.now() > MIN_TRIAL_LEFT
    ):
        # The rest of the trial is kept: the first charge is when it ends.
        subscription_data["trial_end"] = int(trial_end.timestamp())
    session = platform_client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(organization.uuid),
            "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
            "subscription_data": subscription_data,
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options={
            "idempotency_key": f"platform:{organization.uuid}:checkout:{plan.code}:"
            f"{_bucket(CHECKOUT_BUCKET_SECONDS)}"
        },
    )
    return session.url


def platform_checkout_return(
    *, organization: Organization, subscription: FirmSubscription, session_id: str
) -> bool:
    """Back from Checkout: read the session and its subscription now. False
    when the session is not this firm's (or not finished)."""
    client = platform_client()
    session = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    if (
        not subscription.stripe_customer_id
        or session.get("customer") != subscription.stripe_customer_id
        or not session.get("subscription")
    ):
        return False
    sub_id = session["subscription"]
    if isinstance(sub_id, dict):
        sub_id = sub_id["id"]
    stripe_subscription = client.v1.subscriptions.retrieve(sub_id).to_dict()
    platform_subscription_sync(
        subscription=subscription, stripe_subscription=stripe_subscription
    )
    return True


def platform_plan_change(
    *, organization: Organization, subscription: FirmSubscription, plan: Plan, by: User
) -> None:
    """Move the firm's live subscription to `plan` (prorated by Stripe)."""
    if not has_live_subscription(subscription):
        raise ValidationError(
            "The firm has no subscription to change: subscribe first."
        )
    if plan.pk == subscription.plan_id:
        raise ValidationError(f"{organization.name} is on {plan.name} already.")
    _buyable(organization, plan)
    client = platform_client()
    sub_id = subscription.stripe_subscription_id
    current = client.v1.subscriptions.retrieve(sub_id).to_dict()
    item = current["items"]["data"][0]["id"]
    updated = client.v1.subscriptions.update(
        sub_id,
        params={
            "items": [{"id": item, "price": plan.stripe_price_id}],
            "proration_behavior": "create_prorations",
        },
        options={
            "idempotency_key": f"platform:{sub_id}:plan:{plan.code}:"
            f"{_bucket(CHECKOUT_BUCKET_SECONDS)}"
        },
    )
    platform_subscription_sync(
        subscription=subscription, stripe_subscription=updated.to_dict(), by=by
    )


def platform_portal_url(
    *, organization: Organization, subscription: FirmSubscription, return_url: str
) -> str:
    """Stripe's customer portal for the firm: card, invoices, cancellation."""
    if not subscription.stripe_customer_id:
        raise ValidationError("Subscribe first: there is no billing account yet.")
    session = platform_client().v1.billing_portal.sessions.create(
        params={"customer": subscription.stripe_customer_id, "return_url": return_url},
        options={
            "idempotency_key": f"platform:{organization.uuid}:portal:"
            f"{_bucket(PORTAL_BUCKET_SECONDS)}"
        },
    )
    return session.url


# What Stripe says, applied -----------------------------------------------------------


def platform_subscription_sync(
    *,
    subscription: FirmSubscription,
    stripe_subscription: dict,
    by: User | None = None,
) -> bool:
    """Apply a subscription as Stripe has it now (read, never taken from an
    event's snapshot). Returns whether anything changed.

    A subscription other than the firm's current one is taken only when it is
    live (the firm subscribed again after a cancellation); an old one's late
    events (its cancellation) change nothing.
    """
    stripe_status = stripe_subscription.get("status", "")
    status = STATUSES.get(stripe_status)
    sub_id = stripe_subscription["id"]
    if status is None:
        logger.info("Subscription %s is %s: nothing to apply", sub_id, stripe_status)
        return False
    current = subscription.stripe_subscription_id
    if current and current != sub_id:
        if status not in LIVE:
            logger.info(
                "Firm %s: event of its former subscription %s ignored",
                subscription.organization_id,
                sub_id,
            )
            return False
        logger.warning(
            "Firm %s: subscription %s replaces %s",
            subscription.organization_id,
            sub_id,
            current,
        )
    items = (stripe_subscription.get("items") or {}).get("data") or [{}]
    price = (items[0].get("price") or {}).get("id")
    plan = Plan.objects.filter(stripe_price_id=price).first() if price else None
    if plan is None:
        logger.warning(
            "Firm %s: Stripe price %s is no plan's; the plan is kept",
            subscription.organization_id,
            price,
        )
    period_end = items[0].get("current_period_end") or stripe_subscription.get(
        "current_period_end"
    )
    return subscription_apply(
        subscription=subscription,
        status=status,
        plan=plan,
        trial_ends_at=_moment(stripe_subscription.get("trial_end")),
        current_period_end=_moment(period_end),
        cancel_at_period_end=bool(
            stripe_subscription.get("cancel_at_period_end")
            or stripe_subscription.get("cancel_at")
        ),
        stripe_subscription_id=sub_id,
        by=by,
    )


# Webhooks -----------------------------------------------------------------------------


def _customer_of(obj: dict) -> str:
    customer = obj.get("customer") or ""
    return customer["id"] if isinstance(customer, dict) else str(customer)


def _subscription_of(obj: dict) -> str | None:
    """The subscription an event is about: itself, an invoice's (in the
    `parent` since Stripe's 2025 versions), a Checkout session's."""
    kind = obj.get("object")
    if kind == "subscription":
        return obj.get("id")
    found = obj.get("subscription")
    if not found and kind == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        found = details.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return found or None


def platform_event_receive(event: dict) -> str:
    """Record a verified event and queue its job, in one transaction. Returns
    what became of it: "queued", "duplicate", "ignored" or "unknown firm"."""
    obj = event["data"]["object"]
    customer = _customer_of(obj)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PlatformEvent.objects.create(
                    event_id=event["id"],
                    type=event["type"],
                    customer_id=customer[:255],
                    payload=event,
                )
        except IntegrityError:
            return "duplicate"
        if event["type"] not in HANDLED:
            return _ignore(record, "Not an event the platform acts on.", "ignored")
        # PLATFORM BYPASS: the event names its firm by the customer id only.
        with platform_bypass():
            subscription = (
                FirmSubscription.objects.select_related("organization")
                .filter(stripe_customer_id=customer)
                .first()
                if customer
                else None
            )
        if subscription is None:
            logger.warning(
                "Platform Stripe event %s (%s): no firm has customer %r",
                event["id"],
                event["type"],
                customer,
            )
            return _ignore(record, "No firm has this customer.", "unknown firm")
        enqueue_for_organization(JOB, subscription.organization, event_id=record.pk)
    return "queued"


def _ignore(record: PlatformEvent, note: str, outcome: str) -> str:
    record.status = PlatformEvent.Status.IGNORED
    record.note = note
    record.processed_at = timezone.now()
    record.save(update_fields=["status", "note", "processed_at"])
    return outcome


@job_retry(attempts=5, backoff_seconds=60)
def platform_event_job(*, organization: Organization, event_id: int) -> str:
    """Re-read the event's subscription from Stripe and apply it. Idempotent: a
    processed event is skipped, and applying the same state twice changes
    nothing. Stripe unreachable: the job raises and is tried again later."""
    record = PlatformEvent.objects.get(pk=event_id)
    if record.status == PlatformEvent.Status.PROCESSED:
        return "already processed"
    subscription = firm_subscription(organization)
    sub_id = _subscription_of(record.payload["data"]["object"])
    if subscription is None or sub_id is None:
        return _ignore(record, "No subscription to read.", "ignored")
    subscription.organization = organization
    try:
        stripe_subscription = platform_client().v1.subscriptions.retrieve(sub_id)
    except StripeError as exc:
        PlatformEvent.objects.filter(pk=record.pk).update(
            status=PlatformEvent.Status.FAILED, note=str(exc)[:1000]
        )
        raise
    changed = platform_subscription_sync(
        subscription=subscription, stripe_subscription=stripe_subscription.to_dict()
    )
    PlatformEvent.objects.filter(pk=record.pk).update(
        status=PlatformEvent.Status.PROCESSED,
        processed_at=timezone.now(),
        note="Applied." if changed else "Nothing to change.",
    )
    return "applied" if changed else "unchanged"
