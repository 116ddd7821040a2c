"""Which rate an hour is billed at, and entries keeping the rates they were
recorded at."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from billing.models import BillingSettings, EngagementRate, MemberRate
from billing.selectors import billing_settings
from billing.services.rates import (
    engagement_rate_delete,
    engagement_rate_set,
    member_rate_set,
)
from billing.services.time import rates_for, time_entry_update
from tests.factories import time_entries

D = Decimal


@pytest.fixture
def sam_rates(cast):
    """Sam bills 120 an hour and costs the firm 45."""
    with tenant_context(cast.alpha):
        member_rate_set(
            membership=cast.membership(cast.sam, cast.alpha),
            billing_rate=D("120"),
            cost_rate=D("45"),
            weekly_capacity_hours=40,
        )


def _rates(cast, engagement, user=None):
    with tenant_context(cast.alpha):
        return rates_for(
            organization_id=cast.alpha.pk,
            user_id=(user or cast.sam).pk,
            engagement=engagement,
        )


def _engagement_rate(cast, engagement, rate: str, user=None):
    with tenant_context(cast.alpha):
        return engagement_rate_set(
            engagement=engagement,
            membership=cast.membership(user, cast.alpha) if user else None,
            billing_rate=D(rate),
        )


def test_with_nothing_set_the_firms_default_rate_applies(cast, books):
    assert _rates(cast, books) == (D("150.00"), D("0"))
    assert _rates(cast, None) == (D("150.00"), D("0"))


def test_the_firms_default_is_its_own(cast, books):
    with tenant_context(cast.alpha):
        settings = billing_settings(cast.alpha)
        settings.default_billing_rate = D("175")
        settings.save()

    assert _rates(cast, books)[0] == D("175")


def test_the_members_rate_beats_the_firms_default(cast, books, sam_rates):
    assert _rates(cast, books) == (D("120"), D("45"))
    assert _rates(cast, None) == (D("120"), D("45"))


def test_a_members_zero_rate_means_the_firms_default(cast, books):
    with tenant_context(cast.alpha):
        member_rate_set(
            membership=cast.membership(cast.sam, cast.alpha),
            billing_rate=D("0"),
            cost_rate=D("45"),
            weekly_capacity_hours=40,
        )

    assert _rates(cast, books) == (D("150.00"), D("45"))


def test_the_engagements_hourly_rate_beats_the_members(cast, books, sam_rates):
    with tenant_context(cast.alpha):
        books.hourly_rate = D("210")
        books.save()

    assert _rates(cast, books) == (D("210"), D("45"))


def test_a_rate_for_everyone_beats_the_engagements_hourly_rate(cast, books, sam_rates):
    with tenant_context(cast.alpha):
        books.hourly_rate = D("210")
        books.save()
    _engagement_rate(cast, books, "190")

    assert _rates(cast, books) == (D("190"), D("45"))
    assert _rates(cast, books, user=cast.mia)[0] == D("190")


def test_a_rate_for_the_member_beats_the_rate_for_everyone(cast, books, sam_rates):
    _engagement_rate(cast, books, "190")
    _engagement_rate(cast, books, "95", user=cast.sam)

    assert _rates(cast, books) == (D("95"), D("45"))
    # Someone else on the engagement still gets everyone's rate.
    assert _rates(cast, books, user=cast.mia)[0] == D("190")


def test_another_engagements_rates_do_not_apply(cast, acme, books, sam_rates):
    with tenant_context(cast.alpha):
        other = books.__class__.objects.create(
            organization=cast.alpha,
            client=acme,
            name="Advisory",
            engagement_type="advisory",
        )
    _engagement_rate(cast, other, "300")
    _engagement_rate(cast, other, "310", user=cast.sam)

    assert _rates(cast, books)[0] == D("120")


def test_setting_an_engagement_rate_again_changes_it(cast, books):
    first = _engagement_rate(cast, books, "190", user=cast.sam)
    second = _engagement_rate(cast, books, "200", user=cast.sam)
    everyone = _engagement_rate(cast, books, "180")
    again = _engagement_rate(cast, books, "185")

    assert first.pk == second.pk and everyone.pk == again.pk
    with tenant_context(cast.alpha):
        assert EngagementRate.objects.count() == 2
    assert _rates(cast, books)[0] == D("200")
    assert _rates(cast, books, user=cast.mia)[0] == D("185")


def test_an_engagement_rate_for_another_firms_member_is_refused(cast, books):
    oscar = cast.membership(cast.oscar, cast.beta)

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as caught:
        engagement_rate_set(engagement=books, membership=oscar, billing_rate=D("1"))

    assert "active member" in str(caught.value)


# The snapshot --------------------------------------------------------------------------


def test_an_entry_keeps_its_rates_when_the_rates_change(cast, books, sam_rates, record):
    entry = record(cast.sam, books.client, 60, engagement=books)
    rate = _engagement_rate(cast, books, "250", user=cast.sam)
    with tenant_context(cast.alpha):
        MemberRate.objects.update(billing_rate=D("999"), cost_rate=D("99"))
        BillingSettings.objects.update(default_billing_rate=D("500"))
        books.hourly_rate = D("400")
        books.save()
        engagement_rate_delete(rate=rate)

    [kept] = time_entries(cast.alpha)

    assert kept.pk == entry.pk
    assert (kept.rate, kept.cost_rate) == (D("120.00"), D("45.00"))


def test_an_edit_keeps_the_rate_unless_the_engagement_changes(
    cast, acme, books, sam_rates, record
):
    entry = record(cast.sam, acme, 60, engagement=books)
    _engagement_rate(cast, books, "250")

    with tenant_context(cast.alpha):
        same = time_entry_update(
            entry=entry, client=acme, date=entry.date, minutes=90, engagement=books
        )
        assert same.rate == D("120")  # more minutes, same engagement: same rate
        moved = time_entry_update(
            entry=same, client=acme, date=entry.date, minutes=90, engagement=None
        )
        assert moved.rate == D("120")  # no engagement: the member's rate
        back = time_entry_update(
            entry=moved, client=acme, date=entry.date, minutes=90, engagement=books
        )

    assert back.rate == D("250")  # the engagement's rate as it is now
