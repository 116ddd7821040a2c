"""What the database walls cost: the tenant proof, per query.

`tenant_proof_cost` times, on the server (EXPLAIN ANALYZE's execution time, so
neither the network nor Python is counted), one indexed page query of
bench-100k (a page of its clients, as the client list asks for them), 500 times
each way, and prints the medians:

- as the application role inside the firm's context: the tenant policy with its
  proof-checking functions (advisoros.tenancy.rls);
- as the owner role, which the policies do not bind: the same rows, no wall;
- `SELECT app_tenant_org()` against `SELECT 1`: one proof check.

The difference between the first two is everything row-level security adds to
a query, proof included. The page scenarios measure the same walls inside
whole requests, against the 25 ms target.
"""

from __future__ import annotations

import json
import statistics

from django.db import connection

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import owner_connect, owner_settings
from bench.harness import MeasureSkipped, bench_firm_ensure, register_measure

RUNS = 500
PAGE = (
    "SELECT id, display_name FROM clients_client"
    " WHERE organization_id = %s ORDER BY sort_name, id LIMIT 25"
)


def _server_ms(cursor, sql: str, params=()) -> float:
    """Median server-side execution time of `sql`, in milliseconds."""
    times = []
    for _ in range(RUNS):
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        times.append(plan[0]["Execution Time"] + plan[0]["Planning Time"])
    return statistics.median(times)


@register_measure("tenant_proof_cost")
def tenant_proof_cost(*, stdout) -> list[dict]:
    if not owner_settings():
        raise MeasureSkipped("DATABASE_OWNER_URL is not set (run through make)")
    firm = bench_firm_ensure("bench-100k")
    org_id = firm.organization.pk
    with tenant_context(firm.organization), connection.cursor() as cursor:
        walled = _server_ms(cursor, PAGE, [org_id])
        proof = _server_ms(cursor, "SELECT public.app_tenant_org()")
        bare_select = _server_ms(cursor, "SELECT 1")
    with owner_connect() as conn, conn.cursor() as cursor:
        unwalled = _server_ms(cursor, PAGE, [org_id])
    stdout.write(
        f"  a page of clients on the server: {walled * 1000:.0f} us behind the"
        f" walls, {unwalled * 1000:.0f} us without"
        f" (+{(walled - unwalled) * 1000:.0f} us);"
        f" one proof check {(proof - bare_select) * 1000:.0f} us"
    )
    size = firm.size or 100_000
    return [
        {
            "name": "walls.client_page_server_us",
            "value": round(walled * 1000, 1),
            "unit": "us",
            "dataset_size": size,
        },
        {
            "name": "walls.client_page_unwalled_server_us",
            "value": round(unwalled * 1000, 1),
            "unit": "us",
            "dataset_size": size,
        },
        {
            "name": "walls.proof_check_server_us",
            "value": round((proof - bare_select) * 1000, 1),
            "unit": "us",
            "dataset_size": size,
        },
    ]
