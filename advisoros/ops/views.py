"""The platform operations page: for platform superusers only, under /admin/
(where the tenancy middleware has verified their second factor and runs the
request under the platform bypass). Anyone else gets 404: the page does not
exist for them."""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisoros.ops import selectors


def superuser_only(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_active and user.is_superuser and user.is_verified()):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@superuser_only
def platform_ops(request: HttpRequest, site_context: dict) -> HttpResponse:
    sizes = selectors.table_sizes()
    tenant = selectors.tenant_tables()
    biggest_tenant = [r["table_name"] for r in sizes if r["table_name"] in tenant]
    broker, queues = selectors.job_queues()
    ctx = {
        **site_context,
        "title": "Platform operations",
        # pg_extension; pg_stat_statements when installed (in a savepoint)
        "slow": selectors.slow_queries(),
        # pg_stat_database.stats_reset
        "stats_since": selectors.statistics_since(),
        # pg_stat_user_indexes joined with pg_index
        "unused_indexes": selectors.unused_indexes(),
        # pg_stat_user_tables
        "seq_scan_tables": selectors.seq_scan_tables(),
        # pg_class (every table; above: no query)
        "table_sizes": sizes[:15],
        # one grouped count over the three biggest tenant tables
        "rows_per_firm": selectors.rows_per_firm(
            biggest_tenant[: selectors.FIRM_COUNT_TABLES]
        ),
        # pg_stat_activity
        "connections": selectors.connection_use(),
        # django_q_ormq grouped by queue (Redis: LLEN, no query); above
        "broker": broker,
        "queues": queues,
        # ops_migrationtiming, slowest first
        "migration_timings": selectors.migration_timings(),
    }
    return render(request, "ops/platform_ops.html", ctx)
