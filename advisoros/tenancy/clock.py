"""The firm's clock: dates and times as the firm reads them, in its time zone."""

from __future__ import annotations

from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.utils import timezone

from advisoros.tenancy.request import OrgRequest


@contextmanager
def firm_time(request: OrgRequest):
    """Show and read dates and times in the firm's time zone."""
    with timezone.override(ZoneInfo(request.organization.timezone)):
        yield
