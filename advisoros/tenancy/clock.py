"""The firm's own clock: its today, and its time zone for the pages it reads.

A firm in Honolulu and one in New York see different dates at the same
instant; "due today" and "overdue" mean the firm's date, never the server's.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.utils import timezone

from advisoros.tenancy.models import Organization
from advisoros.tenancy.request import OrgRequest


def firm_today(organization: Organization) -> date:
    """Today in the firm's own time zone: what "due" and "overdue" mean to it."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.timezone))


@contextmanager
def firm_time(request: OrgRequest) -> Iterator[None]:
    """Show and read dates and times in the firm's time zone."""
    with timezone.override(zoneinfo.ZoneInfo(request.organization.timezone)):
        yield
