"""Rates and capacity: a member's billing and cost rates and weekly hours, and an
engagement's rates (docs/billing.md, "Time").

Changing a rate changes no time entry: each entry holds the rates it was
recorded at (billing.services.time)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from advisoros.tenancy.models import Membership
from billing.models import EngagementRate, MemberRate
from clients.models import Engagement


@transaction.atomic
def member_rate_set(
    *,
    membership: Membership,
    billing_rate: Decimal,
    cost_rate: Decimal,
    weekly_capacity_hours: int,
) -> MemberRate:
    """A member's standard rates and the hours they can work in a week (the
    workload page's capacity)."""
    rate = MemberRate.objects.filter(
        organization_id=membership.organization_id, membership=membership
    ).first() or MemberRate(
        organization_id=membership.organization_id, membership=membership
    )
    rate.billing_rate = billing_rate
    rate.cost_rate = cost_rate
    rate.full_clean()
    rate.save()
    if membership.weekly_capacity_hours != weekly_capacity_hours:
        membership.weekly_capacity_hours = weekly_capacity_hours
        membership.full_clean()
        membership.save(update_fields=["weekly_capacity_hours", "updated_at"])
    return rate


@transaction.atomic
def engagement_rate_set(
    *,
    engagement: Engagement,
    membership: Membership | None,
    billing_rate: Decimal,
) -> EngagementRate:
    """The engagement's billing rate for one member, or for everyone (None):
    made, or changed when there is one already."""
    if membership is not None and (
        membership.organization_id != engagement.organization_id
        or not membership.is_active
    ):
        raise ValidationError({"member": "Choose an active member of the firm."})
    rate, _ = EngagementRate.objects.select_for_update().get_or_create(
        organization_id=engagement.organization_id,
        engagement=engagement,
        membership=membership,
        defaults={"billing_rate": billing_rate},
    )
    rate.billing_rate = billing_rate
    rate.full_clean()
    rate.save()
    return rate


@transaction.atomic
def engagement_rate_delete(*, rate: EngagementRate) -> None:
    rate.delete()
