"""The firm's own subscription to AdvisorOS as a hosted service: plans, limits,
the trial, and the read-only state of a firm that stopped paying.

Off entirely unless the platform's Stripe key is set (`platform_billing_on`):
then no firm has limits, no page shows a banner, and the Subscription page is
not in the navigation. On:

- A new firm starts a trial of the default plan (`subscription_trial_start`,
  called by `organization_create`; a firm made before the switch gets its
  trial on first need, `subscription_for`).
- `plan_limit_check(organization, what)` refuses, with a message that names
  the plan and the limit, what would take the firm over its plan: a member
  (invited, joining or reactivated), a client (created, restored or
  imported) or stored document bytes. The services that add them call it; it
  raises ValidationError, which their views already show.
- A firm whose payment failed (past due, unpaid) or whose subscription was
  canceled becomes read-only `PLATFORM_BILLING_GRACE_DAYS` after the problem
  was first seen, and a trial that ended without a subscription at once: the
  same wall as a deactivated firm (the tenancy middleware refuses writes; the
  export and the Subscription page stay open). Every page says why
  (`subscription_standing(...).notice`, drawn by base_org.html).

The core knows nothing of Stripe: integrations.stripe.platform talks to it
and reports what Stripe says through `subscription_apply`. The counts of
clients and stored bytes belong to the apps that own them; they register
their counter here (`register_usage`), as they register panels.
"""

from __future__ import annotations

import logging
import math
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.models import (
    FirmSubscription,
    Invitation,
    Membership,
    Organization,
    Plan,
    SubscriptionStatus,
)

logger = logging.getLogger(__name__)

GB = 1024**3
# The trial's end is announced on every page for its last days.
TRIAL_NOTICE_DAYS = 7
PROBLEM_STATUSES = (
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.CANCELED,
)


def platform_billing_on() -> bool:
    """The platform's Stripe key is set (advisoros/settings.py checks that its
    webhook secret is set with it)."""
    return bool(settings.PLATFORM_STRIPE_SECRET_KEY)


# Usage ------------------------------------------------------------------------------

MEMBERS, CLIENTS, STORAGE = "members", "clients", "storage"
LIMITED = (MEMBERS, CLIENTS, STORAGE)


def _members_used(organization: Organization) -> int:
    """Seats: active members and open invitations (an invitation holds its seat
    until it is accepted, withdrawn or expires)."""
    members = Membership.objects.filter(organization=organization, is_active=True)
    invitations = Invitation.objects.filter(
        organization=organization,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    )
    return members.count() + invitations.count()


_counters: dict[str, Callable[[Organization], int]] = {MEMBERS: _members_used}


def register_usage(what: str, count: Callable[[Organization], int]) -> None:
    """An app's counter of what it stores (clients: "clients", documents:
    "storage" in bytes), run in the firm's context. Called from AppConfig.ready."""
    if what not in LIMITED:
        raise ValueError(f"No plan limits {what!r}.")
    _counters[what] = count


def usage_of(organization: Organization, what: str) -> int:
    count = _counters.get(what)
    if count is None:
        # The app that owns it is not installed: nothing of it can be added.
        return 0
    return count(organization)


def plan_limit(plan: Plan, what: str) -> int | None:
    """The plan's limit of `what` (bytes for storage); None: unlimited."""
    if what == MEMBERS:
        return plan.max_members
    if what == CLIENTS:
        return plan.max_clients
    if what == STORAGE:
        return None if plan.max_storage_gb is None else plan.max_storage_gb * GB
    raise ValueError(f"No plan limits {what!r}.")


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1") if value < 10 else Decimal("1")).normalize()


def size_text(size: int) -> str:
    """Bytes as the Subscription page and the messages write them, in the
    largest unit that keeps the number under 1024, one decimal below 10
    ("3.2 GB", "12 GB", "340 MB", "1 GB" for a few bytes short of it)."""
    for unit, factor in (("bytes", 1), ("KB", 1024), ("MB", 1024**2)):
        shown = _rounded(Decimal(size) / factor)
        if shown < 1024:
            return f"{shown:f} {unit}"
    return f"{_rounded(Decimal(size) / GB):f} GB"


def _limit_message(plan: Plan, what: str, limit: int, used: int, adding: int) -> str:
    upgrade = "upgrade on the Subscription page."
    if what == STORAGE:
        return (
            f"Your plan ({plan.name}) allows {size_text(limit)} of documents "
            f"({size_text(used)} used, this is {size_text(adding)}); {upgrade}"
        )
    noun = "member" if what == MEMBERS else "client"
    allowed = f"{limit} {noun}{'s' if limit != 1 else ''}"
    if adding > 1:
        return (
            f"Your plan ({plan.name}) allows {allowed}: the firm has {used} and "
            f"this adds {adding}. Nothing was added; {upgrade}"
        )
    note = " (archived clients do not count)" if what == CLIENTS else ""
    return f"Your plan ({plan.name}) allows {allowed}{note}; {upgrade}"


def plan_limit_check(organization: Organization, what: str, *, adding: int = 1) -> None:
    """Refuse what would take the firm over its plan's limit of `what`.

    `adding` is how many members or clients (or how many bytes) the write adds;
    0 checks that the firm is within its limit at all (an invitation being
    accepted already holds its seat). Raises ValidationError (code
    "plan_limit") whose message names the plan and the limit. Nothing happens
    while the platform is off, or when the plan does not limit `what`.

    Two writers at the same moment may each see room for one more: the limits
    are for plans, not for security, and a firm over by one is told on its
    next addition.
    """
    if not platform_billing_on():
        return
    subscription = subscription_for(organization)
    if subscription is None:
        return
    limit = plan_limit(subscription.plan, what)
    if limit is None:
        return
    used = usage_of(organization, what)
    if used + adding > limit:
        raise ValidationError(
            _limit_message(subscription.plan, what, limit, used, adding),
            code="plan_limit",
        )


@dataclass(frozen=True)
class Usage:
    what: str
    label: str
    used: int
    limit: int | None

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, math.ceil(self.used * 100 / self.limit))

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    @property
    def text(self) -> str:
        if self.what == STORAGE:
            used = size_text(self.used)
            return f"{used} of {size_text(self.limit)}" if self.limit else used
        return (
            f"{self.used} of {self.limit}" if self.limit is not None else str(self.used)
        )


USAGE_LABELS = {MEMBERS: "Members", CLIENTS: "Clients", STORAGE: "Document storage"}


def plan_usage(organization: Organization, plan: Plan) -> list[Usage]:
    """What the firm uses of each limit of `plan` (one query or two each)."""
    return [
        Usage(
            what,
            USAGE_LABELS[what],
            usage_of(organization, what),
            plan_limit(plan, what),
        )
        for what in LIMITED
    ]


def plan_change_problems(organization: Organization, plan: Plan) -> list[str]:
    """Why the firm cannot move to `plan` now: each limit it already exceeds."""
    return [
        f"{u.label}: the firm uses {u.text.split(' of ')[0]}, {plan.name} allows "
        + (size_text(u.limit) if u.what == STORAGE else str(u.limit))
        for u in plan_usage(organization, plan)
        if u.over
    ]


# The subscription row ---------------------------------------------------------------


def firm_subscription(organization: Organization) -> FirmSubscription | None:
    """The firm's subscription with its plan (one query), without making one."""
    return (
        FirmSubscription.objects.select_related("plan")
        .filter(organization=organization)
        .first()
    )


def subscription_for(organization: Organization) -> FirmSubscription | None:
    """The firm's subscription; a firm that has none yet (made before the
    platform was switched on) starts its trial now. None when no plan is the
    default (then the firm has no limits; logged)."""
    return firm_subscription(organization) or subscription_trial_start(
        organization=organization
    )


def subscription_trial_start(*, organization: Organization) -> FirmSubscription | None:
    """A trial of the default plan for a new firm (no-op when it has a subscription)."""
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        logger.warning(
            "No default plan: firm %s has no subscription and no limits.",
            organization.pk,
        )
        return None
    try:
        with transaction.atomic():
            subscription, _ = FirmSubscription.objects.get_or_create(
                organization=organization,
                defaults={
                    "plan": plan,
                    "status": SubscriptionStatus.TRIALING,
                    "trial_ends_at": timezone.now() + timedelta(days=plan.trial_days),
                },
            )
    except IntegrityError:  # made by a concurrent request a moment ago
        subscription = FirmSubscription.objects.get(organization=organization)
    return subscription


@transaction.atomic
def subscription_apply(
    *,
    subscription: FirmSubscription,
    status: SubscriptionStatus | str,
    plan: Plan | None = None,
    trial_ends_at: datetime | None = None,
    current_period_end: datetime | None = None,
    cancel_at_period_end: bool = False,
    stripe_subscription_id: str | None = None,
    by: User | None = None,
) -> bool:
    """Record what the payment provider says of the firm's subscription.

    Idempotent: the same state applied twice changes nothing the second time
    (returns False). A payment problem's start is kept from the first time it
    is seen, and cleared once the subscription is in good standing again. A
    change of status or plan is an audit event in the firm's log.
    """
    locked = FirmSubscription.objects.select_for_update().get(pk=subscription.pk)
    status = SubscriptionStatus(status)
    before = (locked.status, locked.plan_id)
    changes = {
        "status": status,
        "plan_id": plan.pk if plan is not None else locked.plan_id,
        "trial_ends_at": trial_ends_at
        if status == SubscriptionStatus.TRIALING
        else locked.trial_ends_at,
        "current_period_end": current_period_end,
        "cancel_at_period_end": cancel_at_period_end,
    }
    if stripe_subscription_id is not None:
        changes["stripe_subscription_id"] = stripe_subscription_id
    if status in PROBLEM_STATUSES:
        changes["problem_since"] = locked.problem_since or timezone.now()
    else:
        changes["problem_since"] = None
    changed = [f for f, v in changes.items() if getattr(locked, f) != v]
    if not changed:
        return False
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changed, "updated_at"])
    if (locked.status, locked.plan_id) != before:
        audit_event_record(
            action=AuditAction.SUBSCRIPTION_CHANGED,
            organizations=[locked.organization_id],
            actor=by,
            target=(plan or locked.plan).name,
            detail={
                "from": {"status": before[0], "plan": before[1]},
                "to": {"status": locked.status, "plan": locked.plan_id},
            },
        )
    for name in (*changes, "updated_at"):
        setattr(subscription, name, getattr(locked, name))
    return True


def subscription_set_customer(
    *, subscription: FirmSubscription, stripe_customer_id: str
) -> None:
    FirmSubscription.objects.filter(pk=subscription.pk).update(
        stripe_customer_id=stripe_customer_id, updated_at=timezone.now()
    )
    subscription.stripe_customer_id = stripe_customer_id


# Standing: writable or read-only, and what the pages say -------------------------


@dataclass(frozen=True)
class Notice:
    """What every page of the firm says about its subscription."""

    level: str  # "info", "warning" or "error": the banner's colour
    text: str
    action: str  # the owner's link to the Subscription page
    others: str  # for members who are not owners


@dataclass(frozen=True)
class Standing:
    read_only: bool
    notice: Notice | None
    # When the firm becomes (or became) read-only, if it is heading there.
    read_only_from: datetime | None = None


GOOD = Standing(read_only=False, notice=None)


def grace() -> timedelta:
    return timedelta(days=settings.PLATFORM_BILLING_GRACE_DAYS)


def _day(moment: datetime, organization: Organization) -> str:
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(organization.timezone))
    return f"{local:%B} {local.day}, {local.year}"


def subscription_standing(
    subscription: FirmSubscription | None, *, now: datetime | None = None
) -> Standing:
    """Whether the firm may write, and the notice its pages show. No query:
    the firm is on the subscription (the middleware loaded both)."""
    if subscription is None:
        return GOOD
    now = now or timezone.now()
    organization = subscription.organization
    name = organization.name
    kept = "Everything can still be read, downloaded and exported."
    status = subscription.status
    if (
        status == SubscriptionStatus.TRIALING
        and not subscription.stripe_subscription_id
    ):
        ends = subscription.trial_ends_at
        if ends is None:
            return GOOD
        if ends <= now:
            return Standing(
                read_only=True,
                read_only_from=ends,
                notice=Notice(
                    "error",
                    f"{name}'s trial ended on {_day(ends, organization)}: the firm "
                    f"is read-only until it subscribes. {kept}",
                    "Subscribe",
                    "An owner of the firm can subscribe.",
                ),
            )
        left = ends - now
        if left <= timedelta(days=TRIAL_NOTICE_DAYS):
            days = max(1, math.ceil(left / timedelta(days=1)))
            return Standing(
                read_only=False,
                read_only_from=ends,
                notice=Notice(
                    "warning" if days <= 3 else "info",
                    f"The trial ends in {days} day{'s' if days != 1 else ''}, on "
                    f"{_day(ends, organization)}. Subscribe to keep making changes "
                    "after that.",
                    "Choose a plan",
                    "An owner of the firm can subscribe.",
                ),
            )
        return GOOD
    if status in PROBLEM_STATUSES:
        since = subscription.problem_since or subscription.updated_at
        locks = since + grace()
        canceled = status == SubscriptionStatus.CANCELED
        if locks <= now:
            why = (
                f"its subscription was canceled on {_day(since, organization)}"
                if canceled
                else f"the subscription payment failed on {_day(since, organization)} "
                "and has not been made since"
            )
            return Standing(
                read_only=True,
                read_only_from=locks,
                notice=Notice(
                    "error",
                    f"{name} is read-only: {why}. {kept} Changes resume once "
                    + ("the firm subscribes again." if canceled else "it is paid."),
                    "Subscribe again" if canceled else "Fix the payment",
                    "An owner of the firm can "
                    + ("subscribe again." if canceled else "update the payment."),
                ),
            )
        what = (
            "The subscription was canceled"
            if canceled
            else "The last payment for the subscription failed"
        )
        todo = "Subscribe again" if canceled else "Update the payment method"
        return Standing(
            read_only=False,
            read_only_from=locks,
            notice=Notice(
                "warning",
                f"{what}. {todo} by {_day(locks, organization)}, or {name} becomes "
                f"read-only then. {kept}",
                "Subscribe again" if canceled else "Fix the payment",
                "An owner of the firm can "
                + ("subscribe again." if canceled else "update the payment."),
            ),
        )
    end = subscription.current_period_end
    if (
        subscription.cancel_at_period_end
        and end is not None
        and end - now <= timedelta(days=TRIAL_NOTICE_DAYS)
    ):
        return Standing(
            read_only=False,
            notice=Notice(
                "info",
                f"The subscription ends on {_day(end, organization)} (it was "
                "canceled at the end of its period).",
                "Manage the subscription",
                "An owner of the firm can renew it.",
            ),
        )
    return GOOD
