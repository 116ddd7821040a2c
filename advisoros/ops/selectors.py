"""Reads for the platform operations page (advisoros.ops.views): PostgreSQL's
own statistics, the job queue and the migrations' timings.

Each function is one query (the slow queries: one more, and only when
pg_stat_statements is installed), so the page costs the same whatever the
size of the database. The statistics views are readable by the application's
role; what PostgreSQL hides from it (other roles' sessions and statements
without pg_read_all_stats) shows as hidden, never as an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from advisoros.ops.models import MigrationTiming

# Tables with fewer live rows are never "missing an index": scanning them is cheap.
SEQ_SCAN_MIN_ROWS = 10_000
# The per-firm counts read this many of the biggest tenant tables, no more:
# one grouped count each, in one statement (the page's cost stays bounded).
FIRM_COUNT_TABLES = 3
FIRMS_PER_TABLE = 5


def _rows(sql: str, params: tuple = ()) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class SlowQueries:
    available: bool
    note: str
    rows: list[dict]


def slow_queries(limit: int = 10) -> SlowQueries:
    """The slowest statements on average, from pg_stat_statements when the
    extension is installed and loaded; otherwise what to do about it."""
    installed = _rows(
        "SELECT EXISTS (SELECT 1 FROM pg_extension"
        " WHERE extname = 'pg_stat_statements') AS installed"
    )[0]["installed"]
    if not installed:
        return SlowQueries(
            False,
            "pg_stat_statements is not installed in this database. A superuser "
            "adds it to shared_preload_libraries, restarts PostgreSQL and runs "
            "CREATE EXTENSION pg_stat_statements (docs/deploy.md).",
            [],
        )
    try:
        with transaction.atomic():
            rows = _rows(
                "SELECT query, calls, mean_exec_time AS mean_ms,"
                " total_exec_time AS total_ms, rows FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
                " ORDER BY mean_exec_time DESC LIMIT %s",
                (limit,),
            )
    except DatabaseError:
        return SlowQueries(
            False,
            "pg_stat_statements is installed but not loaded: add it to "
            "shared_preload_libraries and restart PostgreSQL.",
            [],
        )
    return SlowQueries(True, "", rows)


def unused_indexes(limit: int = 15) -> list[dict]:
    """Indexes never used since the statistics were reset, biggest first
    (unique and primary keys are constraints: never listed)."""
    return _rows(
        "SELECT s.relname AS table_name, s.indexrelname AS index_name,"
        " pg_relation_size(s.indexrelid) AS bytes"
        " FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid"
        " WHERE s.schemaname = 'public' AND s.idx_scan = 0"
        " AND NOT i.indisunique AND NOT i.indisprimary"
        " ORDER BY pg_relation_size(s.indexrelid) DESC LIMIT %s",
        (limit,),
    )


def seq_scan_tables(limit: int = 10) -> list[dict]:
    """Tables read mostly by sequential scans although they are big: the
    likely missing indexes."""
    return _rows(
        "SELECT relname AS table_name, seq_scan, seq_tup_read,"
        " coalesce(idx_scan, 0) AS idx_scan, n_live_tup AS live_rows"
        " FROM pg_stat_user_tables"
        " WHERE schemaname = 'public' AND n_live_tup >= %s"
        " AND seq_scan > coalesce(idx_scan, 0)"
        " ORDER BY seq_tup_read DESC LIMIT %s",
        (SEQ_SCAN_MIN_ROWS, limit),
    )


def table_sizes() -> list[dict]:
    """Every table with its estimated rows (pg_class.reltuples: no count) and
    size on disk with indexes and TOAST, biggest first."""
    return _rows(
        "SELECT c.relname AS table_name, greatest(c.reltuples, 0)::bigint AS rows,"
        " pg_total_relation_size(c.oid) AS bytes FROM pg_class c"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
        " ORDER BY pg_total_relation_size(c.oid) DESC"
    )


def tenant_tables() -> set[str]:
    """The tables of models with a direct `organization` foreign key."""
    return {
        model._meta.db_table
        for model in apps.get_models()
        if any(field.name == "organization" for field in model._meta.concrete_fields)
    }


def rows_per_firm(tables: list[str]) -> list[dict]:
    """The firms with the most rows in each of `tables` (a few of the biggest
    tenant tables): one statement, one grouped count a table. Needs the
    platform bypass (the admin's superuser pages run under it)."""
    if not tables:
        return []
    quote = connection.ops.quote_name
    counts = " UNION ALL ".join(
        f"SELECT %s AS table_name, organization_id, count(*) AS n"  # noqa: S608
        f" FROM {quote(table)} GROUP BY organization_id"
        for table in tables
    )
    organizations = quote(apps.get_model("tenancy", "Organization")._meta.db_table)
    return _rows(
        f"WITH counts AS ({counts}), ranked AS ("  # noqa: S608
        " SELECT *, row_number() OVER (PARTITION BY table_name ORDER BY n DESC)"
        " AS place FROM counts)"
        f" SELECT r.table_name, o.name AS firm, r.n AS rows FROM ranked r"
        f" JOIN {organizations} o ON o.id = r.organization_id"
        " WHERE r.place <= %s ORDER BY r.table_name, r.n DESC",
        (*tables, FIRMS_PER_TABLE),
    )


def connection_use() -> dict:
    """Sessions on this database by state, against max_connections. Other
    roles' sessions show no state to a role without pg_read_all_stats."""
    return _rows(
        "SELECT count(*) AS total,"
        " count(*) FILTER (WHERE state = 'active') AS active,"
        " count(*) FILTER (WHERE state = 'idle') AS idle,"
        " count(*) FILTER (WHERE state LIKE 'idle in transaction%%')"
        " AS idle_in_transaction,"
        " count(*) FILTER (WHERE state IS NULL) AS hidden,"
        " current_setting('max_connections')::int AS max_connections,"
        " max(now() - xact_start) FILTER (WHERE state <> 'idle')"
        " AS longest_transaction"
        " FROM pg_stat_activity WHERE datname = current_database()"
    )[0]


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    waiting: int
    taken: int | None  # by a worker, not finished (the ORM broker only)
    oldest: timedelta | None  # the longest wait (the ORM broker only)


def _cluster_names() -> list[str]:
    conf = settings.Q_CLUSTER
    return [conf.get("name", "default"), *conf.get("ALT_CLUSTERS", {})]


def job_queues() -> tuple[str, list[QueueDepth]]:
    """Each cluster's queue: the ORM broker's rows (one query), or the length
    of each Redis list (no database query; Redis keeps no enqueue time)."""
    from django_q.brokers import get_broker

    conf = settings.Q_CLUSTER
    if conf.get("orm"):
        from django_q.models import OrmQ

        now = timezone.now()
        rows = (
            OrmQ.objects.using(conf["orm"])
            .values("key")
            .annotate(
                waiting=Count("id", filter=Q(lock__lte=now)),
                taken=Count("id", filter=Q(lock__gt=now)),
                first=Min("lock", filter=Q(lock__lte=now)),
            )
            .order_by("key")
        )
        found = {row["key"]: row for row in rows}
        return "the database (ORM broker)", [
            QueueDepth(
                name,
                found.get(name, {}).get("waiting", 0),
                found.get(name, {}).get("taken", 0),
                now - found[name]["first"]
                if found.get(name, {}).get("first")
                else None,
            )
            for name in sorted({*_cluster_names(), *found})
        ]
    return "Redis", [
        QueueDepth(name, get_broker(name).queue_size(), None, None)
        for name in _cluster_names()
    ]


def migration_timings(limit: int = 15) -> list[MigrationTiming]:
    return list(MigrationTiming.objects.order_by("-seconds")[:limit])


def statistics_since() -> datetime | None:
    """When this database's statistics were last reset (unused means unused since)."""
    return _rows(
        "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
    )[0]["stats_reset"]
