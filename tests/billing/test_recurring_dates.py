"""Recurring invoice dates: each period's date, month ends, and the days refused."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from billing.models import RecurringInvoice
from billing.services.recurring import (
    billing_period_label,
    coming_dates,
    following_date,
    recurring_date_check,
)


def _dates(start: date, cadence: str, count: int) -> list[date]:
    dates = [start]
    while len(dates) < count:
        dates.append(following_date(dates[-1], cadence))
    return dates


def test_a_day_up_to_the_28th_recurs_on_that_day():
    assert _dates(date(2027, 1, 15), "monthly", 4) == [
        date(2027, 1, 15),
        date(2027, 2, 15),
        date(2027, 3, 15),
        date(2027, 4, 15),
    ]


def test_a_months_last_day_recurs_on_each_months_last_day():
    assert _dates(date(2027, 1, 31), "monthly", 5) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),  # back to the 31st, never drifting to the 28th
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert _dates(date(2027, 11, 30), "quarterly", 3) == [
        date(2027, 11, 30),
        date(2028, 2, 29),  # a leap year's last day of February
        date(2028, 5, 31),
    ]


def test_yearly_and_quarterly_periods():
    assert _dates(date(2027, 4, 1), "quarterly", 3) == [
        date(2027, 4, 1),
        date(2027, 7, 1),
        date(2027, 10, 1),
    ]
    assert _dates(date(2028, 2, 29), "yearly", 3) == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
    ]


@pytest.mark.parametrize("day", [date(2027, 1, 29), date(2027, 1, 30)])
def test_a_day_some_months_lack_is_refused(day):
    with pytest.raises(ValidationError, match="1st to the 28th"):
        recurring_date_check(day)


@pytest.mark.parametrize(
    "day", [date(2027, 1, 28), date(2027, 1, 31), date(2027, 4, 30)]
)
def test_the_28th_and_month_ends_are_accepted(day):
    recurring_date_check(day)


def test_each_invoice_is_labelled_with_the_period_it_bills():
    assert billing_period_label("monthly", date(2027, 3, 1)) == "March 2027"
    assert billing_period_label("quarterly", date(2027, 4, 1)) == "Q2 2027"
    assert billing_period_label("yearly", date(2027, 1, 1)) == "2027"
    assert billing_period_label("monthly", date(2027, 3, 15)) == "March 2027"
    assert billing_period_label("quarterly", date(2027, 2, 15)) == "Feb – May 2027"


def test_the_coming_dates_stop_at_the_end_date():
    recurring = RecurringInvoice(
        cadence="monthly", next_date=date(2027, 1, 31), end_date=date(2027, 3, 31)
    )
    assert coming_dates(recurring, 5) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
