"""The money reports' period filter (billing/reports/period.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.http import QueryDict

from billing.reports.period import Period, add_months, months_between

TODAY = date(2026, 5, 20)


def _period(query: str, default: str = "this_year") -> Period:
    return Period.from_query(QueryDict(query), today=TODAY, default=default)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("this_month", date(2026, 5, 1), date(2026, 5, 31)),
        ("last_month", date(2026, 4, 1), date(2026, 4, 30)),
        ("this_quarter", date(2026, 4, 1), date(2026, 6, 30)),
        ("last_quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("this_year", date(2026, 1, 1), date(2026, 12, 31)),
        ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
        ("last_12_months", date(2025, 6, 1), date(2026, 5, 31)),
        ("all", None, None),
    ],
)
def test_each_preset_covers_whole_months(preset, start, end):
    period = _period(f"period={preset}")

    assert (period.preset, period.start, period.end) == (preset, start, end)
    assert period.errors == []


def test_last_quarter_in_january_is_the_last_quarter_of_last_year():
    period = Period.from_query(
        QueryDict("period=last_quarter"), today=date(2027, 1, 5), default="all"
    )

    assert (period.start, period.end) == (date(2026, 10, 1), date(2026, 12, 31))


def test_a_custom_range_is_kept_with_its_dates_in_the_address():
    period = _period("period=custom&start=2026-02-03&end=2026-04-05")

    assert (period.start, period.end) == (date(2026, 2, 3), date(2026, 4, 5))
    assert period.query() == {
        "period": "custom",
        "start": "2026-02-03",
        "end": "2026-04-05",
    }
    assert period.label == "Feb 3, 2026 – Apr 5, 2026"
    assert period.slug() == "2026-02-03_2026-04-05"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("period=custom&start=2026-05-01&end=2026-04-01", "first date is after"),
        ("period=custom&start=2026-05-01", "Enter both dates"),
        ("period=custom&start=yesterday&end=2026-04-01", "YYYY-MM-DD"),
        ("period=custom&start=2026-02-30&end=2026-04-01", "YYYY-MM-DD"),
    ],
)
def test_a_bad_custom_range_falls_back_to_the_default_and_says_why(query, error):
    period = _period(query, default="last_month")

    assert period.preset == "last_month"
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert len(period.errors) == 1 and error in period.errors[0]


def test_an_unknown_preset_is_the_default():
    assert _period("period=forever", default="all").preset == "all"


def test_months_cover_the_period_or_the_datas_span():
    assert _period("period=this_quarter").months() == [
        date(2026, 4, 1),
        date(2026, 5, 1),
        date(2026, 6, 1),
    ]
    all_time = _period("period=all")
    assert all_time.months() == []
    assert all_time.months(first=date(2025, 12, 9), last=date(2026, 1, 2)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]


def test_a_long_range_shows_its_last_36_months():
    period = _period("period=custom&start=2010-01-01&end=2026-05-20")

    months = period.months()
    assert len(months) == 36
    assert months[-1] == date(2026, 5, 1)


def test_month_arithmetic_crosses_years():
    assert add_months(date(2026, 11, 30), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 1)
    assert months_between(date(2026, 12, 31), date(2027, 1, 1)) == [
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
