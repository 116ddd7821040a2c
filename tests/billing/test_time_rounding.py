"""The firm's rounding rule: minutes up or to the nearest increment, or as they are."""

from __future__ import annotations

import pytest

from billing.models import BillingSettings, TimeRounding
from billing.services.time import minutes_round


def _rule(increment: int, rounding: str) -> BillingSettings:
    # Not saved: minutes_round reads the two fields only.
    return BillingSettings(time_increment_minutes=increment, time_rounding=rounding)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(1, 6), (5, 6), (6, 6), (7, 12), (61, 66), (90, 90), (1439, 1440)],
)
def test_up_bills_every_started_tenth_of_an_hour(minutes, expected):
    assert minutes_round(_rule(6, TimeRounding.UP), minutes) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(1, 0), (2, 0), (3, 6), (8, 6), (9, 12), (64, 66), (62, 60)],
)
def test_nearest_rounds_halves_up(minutes, expected):
    assert minutes_round(_rule(6, TimeRounding.NEAREST), minutes) == expected


@pytest.mark.parametrize(
    ("increment", "minutes", "expected"),
    [(15, 1, 15), (15, 16, 30), (15, 45, 45), (60, 61, 120), (1, 7, 7)],
)
def test_the_increment_is_the_firms(increment, minutes, expected):
    assert minutes_round(_rule(increment, TimeRounding.UP), minutes) == expected


@pytest.mark.parametrize("minutes", [1, 7, 61, 1439])
def test_none_keeps_the_exact_minutes(minutes):
    assert minutes_round(_rule(6, TimeRounding.NONE), minutes) == minutes


@pytest.mark.parametrize("rounding", TimeRounding.values)
@pytest.mark.parametrize("minutes", [0, -5])
def test_nothing_rounds_to_nothing(rounding, minutes):
    assert minutes_round(_rule(6, rounding), minutes) == 0


def test_a_recorded_entry_keeps_both_lengths(cast, acme, record):
    entry = record(cast.sam, acme, 61)  # the firm's defaults: up to 6 minutes

    assert (entry.recorded_minutes, entry.minutes) == (61, 66)


def test_rounding_never_passes_a_day(cast, acme, record):
    from advisoros.tenancy.db import tenant_context
    from billing.selectors import billing_settings

    with tenant_context(cast.alpha):
        settings = billing_settings(cast.alpha)
        settings.time_increment_minutes = 7
        settings.save()

    entry = record(cast.sam, acme, 1439)

    assert entry.minutes == 1440
