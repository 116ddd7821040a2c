"""Writes of the platform's operations data (no firm: no tenant context)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connections

from advisoros.ops.models import MigrationTiming


def migration_timings_record(
    *, timings: Iterable[tuple[str, str, datetime, float]], using: str = "default"
) -> int:
    """Store how long each applied migration took. Quietly nothing while the
    table does not exist yet (a migrate that stopped before creating it)."""
    timings = list(timings)
    if not timings:
        return 0
    table = MigrationTiming._meta.db_table
    if table not in connections[using].introspection.table_names():
        return 0
    MigrationTiming.objects.using(using).bulk_create(
        MigrationTiming(app_label=app, name=name, applied_at=at, seconds=seconds)
        for app, name, at, seconds in timings
    )
    return len(timings)
