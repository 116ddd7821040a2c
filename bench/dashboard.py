"""The firm dashboard's part of `make bench` (see bench/harness.py).

The page (`dashboard`): every app's panels at once, at bench-1k and bench-100k,
as the firm's owner (who sees every client). Issue 14's target: p95 under
50 ms at 100,000 clients, the same query count at both sizes. The data is the
other apps' seeders' (clients, tasks, documents, requests and portal activity,
100,000 invoices and 1,000,000 time entries): the dashboard seeds nothing.

A measure, `dashboard_query_plans`: each query of one dashboard request in
bench-100k, EXPLAIN ANALYZEd, the slowest first with the indexes it reads, so
a slow page says which panel to look at.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from bench.harness import (
    BenchFirm,
    MeasureSkipped,
    bench_firm_ensure,
    query_plan,
    register_measure,
    register_scenario,
)
from billing.models import Invoice

DASHBOARD_TARGET_MS = 50.0
SHOWN = 6  # the slowest queries printed


@register_scenario("dashboard", target_p95_ms=DASHBOARD_TARGET_MS)
def dashboard(firm: BenchFirm) -> str:
    return reverse("tenancy:dashboard", args=[firm.organization.slug])


@register_measure("dashboard_query_plans")
def dashboard_query_plans(*, stdout) -> list[dict]:
    firm = bench_firm_ensure("bench-100k")
    with tenant_context(firm.organization):
        if not Invoice.objects.filter(organization=firm.organization).exists():
            raise MeasureSkipped("bench-100k has no invoices: run make bench first")
    path = reverse("tenancy:dashboard", args=[firm.organization.slug])
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
    ):
        http = HttpClient()
        http.force_login(firm.owner)
        http.get(path)
        with CaptureQueriesContext(connection) as captured:
            http.get(path)
    timed = []
    with tenant_context(firm.organization):
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            used, ms = query_plan(sql)
            timed.append((ms, sorted(used), sql))
    timed.sort(reverse=True)
    total = sum(ms for ms, _, _ in timed)
    stdout.write(f"  {len(timed)} reads, {total:.2f} ms in PostgreSQL; the slowest:")
    for ms, used, sql in timed[:SHOWN]:
        stdout.write(f"    {ms:7.2f} ms  {', '.join(used) or 'no index'}  {sql[:110]}")
    return [
        {
            "name": "plan.dashboard_ms",
            "value": round(total, 2),
            "unit": "ms",
            "dataset_size": 100_000,
        }
    ]
