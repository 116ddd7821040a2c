"""What the database walls cost: the tenant proof, per query.

`tenant_proof_cost` runs one indexed page query of bench-100k (a page of its
clients, as the client list asks for them) 2,000 times three ways and prints
the median of each:

- as the application role inside the firm's context: the policy with the
  proof-checking functions (advisoros.tenancy.rls);
- as the owner role, which the policies do not bind: the same rows with no
  wall at all;
- `SELECT app_tenant_org()` alone: one proof check.

The difference between the first two is everything row-level security adds to
a query, proof included. The page scenarios (`make bench`) measure the same
walls inside whole requests, against the 25 ms target.
"""

from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.db import connection

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import owner_connect
from bench.harness import MeasureSkipped, bench_firm_ensure, register_measure

RUNS = 2_000
PAGE = (
    "SELECT id, display_name FROM clients_client"
    " WHERE organization_id = %s ORDER BY sort_name, id LIMIT 25"
)


def _median_us(execute) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        execute()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


@register_measure("tenant_proof_cost")
def tenant_proof_cost(*, stdout) -> list[dict]:
    owner = settings.DATABASE_OWNER
    if not owner:
        raise MeasureSkipped("DATABASE_OWNER_URL is not set (run through make)")
    firm = bench_firm_ensure("bench-100k")
    org_id = firm.organization.pk
    with tenant_context(firm.organization), connection.cursor() as cursor:

        def walled():
            cursor.execute(PAGE, [org_id])
            cursor.fetchall()

        def proof():
            cursor.execute("SELECT public.app_tenant_org()")
            cursor.fetchall()

        walled()
        app_us = _median_us(walled)
        proof_us = _median_us(proof)
    with owner_connect() as conn, conn.cursor() as cur:

        def bare():
            cur.execute(PAGE, [org_id])
            cur.fetchall()

        bare()
        owner_us = _median_us(bare)
    stdout.write(
        f"  a page of clients: {app_us:.0f} us behind the walls, {owner_us:.0f} us"
        f" without (+{app_us - owner_us:.0f} us); one proof check {proof_us:.0f} us"
    )
    size = firm.size or 100_000
    return [
        {
            "name": "walls.client_page_us",
            "value": round(app_us, 1),
            "unit": "us",
            "dataset_size": size,
        },
        {
            "name": "walls.client_page_unwalled_us",
            "value": round(owner_us, 1),
            "unit": "us",
            "dataset_size": size,
        },
        {
            "name": "walls.proof_check_us",
            "value": round(proof_us, 1),
            "unit": "us",
            "dataset_size": size,
        },
    ]
