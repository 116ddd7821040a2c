"""The period filter of the money reports: a preset (this quarter, last year ...)
or a custom range of dates, read from the address and written back to it.

Dates are the firm's (`firm_today`): "this month" in Honolulu is not New York's
on the evening of the last day. Both ends are inclusive. "All time" has no
ends: the receivables and work in progress reports start there, since what is
owed or unbilled does not stop mattering with age.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.http import QueryDict
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date

# A custom range longer than this is cut to its last MAX_MONTHS months where a
# report draws a column per month (revenue).
MAX_MONTHS = 36

PRESETS: dict[str, str] = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_year": "Last year",
    "last_12_months": "Last 12 months",
    "all": "All time",
    "custom": "Custom dates",
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """The first day of every month from `start`'s to `end`'s, both included."""
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def _preset_range(preset: str, today: date) -> tuple[date | None, date | None]:
    quarter = month_start(today).replace(month=(today.month - 1) // 3 * 3 + 1)
    match preset:
        case "this_month":
            return month_start(today), add_months(today, 1) - timedelta(days=1)
        case "last_month":
            return add_months(today, -1), month_start(today) - timedelta(days=1)
        case "this_quarter":
            return quarter, add_months(quarter, 3) - timedelta(days=1)
        case "last_quarter":
            return add_months(quarter, -3), quarter - timedelta(days=1)
        case "this_year":
            return date(today.year, 1, 1), date(today.year, 12, 31)
        case "last_year":
            return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
        case "last_12_months":
            return add_months(today, -11), add_months(today, 1) - timedelta(days=1)
    return None, None  # all time


@dataclass
class Period:
    preset: str
    start: date | None  # None: no lower end
    end: date | None  # None: no upper end
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: QueryDict, *, today: date, default: str) -> Period:
        """The period the address asks for; the report's `default` when it asks
        for none, or for a custom range that does not parse (with the reason in
        `errors`, shown above the report)."""
        preset = params.get("period", default)
        if preset not in PRESETS:
            preset = default
        if preset != "custom":
            return cls(preset, *_preset_range(preset, today))
        raw_start, raw_end = params.get("start", ""), params.get("end", "")
        try:
            start = parse_date(raw_start) if raw_start else None
            end = parse_date(raw_end) if raw_end else None
        except ValueError:
            start = end = None
            raw_start = raw_end = "?"
        errors = []
        if (raw_start and start is None) or (raw_end and end is None):
            errors.append("Enter dates as YYYY-MM-DD.")
        elif start is None or end is None:
            errors.append("Enter both dates of a custom period.")
        elif start > end:
            errors.append("The period’s first date is after its last.")
        if errors:
            return cls(default, *_preset_range(default, today), errors=errors)
        return cls("custom", start, end)

    @property
    def label(self) -> str:
        if self.preset == "custom":
            return f"{date_format(self.start, 'M j, Y')} – {date_format(self.end, 'M j, Y')}"
        return PRESETS[self.preset]

    @property
    def is_all_time(self) -> bool:
        return self.start is None and self.end is None

    def months(self, *, first: date | None = None, last: date | None = None):
        """The months the period covers (at most the last MAX_MONTHS); an open
        end is closed by `first` / `last` (the data's own first and last days)."""
        start, end = self.start or first, self.end or last
        if start is None or end is None:
            return []
        months = months_between(start, end)
        return months[-MAX_MONTHS:]

    def query(self) -> dict[str, str]:
        """The address parameters that ask for this period again."""
        if self.preset != "custom":
            return {"period": self.preset}
        return {
            "period": "custom",
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def slug(self) -> str:
        """For a file name: "this_year", "2026-01-01_2026-03-31"."""
        if self.preset != "custom":
            return self.preset
        return f"{self.start.isoformat()}_{self.end.isoformat()}"
