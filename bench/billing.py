"""Billing's part of `make bench` (see bench/harness.py): the data and the pages.

Invoices as many as the firm has clients (100,000 in bench-100k, 1,000 in
bench-1k) and ten time entries a client (1,000,000 and 10,000); how they are
spread is bench/billing_seed.py's docstring. The pages: the money reports that
add up the whole ledger on every request, receivables ageing and work in
progress (issue 13: p95 under 100 ms). And a measure, `billing_query_plans`:
the indexes their grouped queries read in bench-100k, and their time in
PostgreSQL alone.

The invoice list and the time-entry week belong to the pages that show them
(bench/billing_invoices.py has the invoice pages).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from bench.billing_seed import ENTRIES_PER_CLIENT, seed_billing
from bench.harness import (
    BenchFirm,
    MeasureSkipped,
    bench_firm_ensure,
    query_plan,
    register_bench_seeder,
    register_measure,
    register_scenario,
)
from billing.models import Invoice

REPORT_TARGET_MS = 100.0


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    result = seed_billing(
        organization=firm.organization,
        invoices=firm.size,
        entries=firm.size * ENTRIES_PER_CLIENT,
        stdout=stdout,
    )
    if result.invoices or result.entries:
        stdout.write(
            f"{firm.organization.slug}: {result.invoices:,} invoices and"
            f" {result.credit_notes:,} credit notes ({result.lines:,} lines),"
            f" {result.entries:,} time entries, {result.payments:,} payments"
            f" seeded in {result.seconds:.1f} s"
        )


def _report(name: str, firm: BenchFirm, query: str = "") -> str:
    path = reverse(f"billing:{name}", args=[firm.organization.slug])
    return f"{path}?{query}" if query else path


@register_scenario("ar_ageing", target_p95_ms=REPORT_TARGET_MS)
def ar_ageing(firm: BenchFirm) -> str:
    """Every open invoice's balance, by client and days past due (all time)."""
    return _report("report_ar_ageing", firm)


@register_scenario("wip_by_client", target_p95_ms=REPORT_TARGET_MS)
def wip_by_client(firm: BenchFirm) -> str:
    """Every unbilled billable entry and draft line, by client and age."""
    return _report("report_wip", firm)


@register_scenario("wip_by_partner", target_p95_ms=REPORT_TARGET_MS)
def wip_by_partner(firm: BenchFirm) -> str:
    """The same entries by the client's partner (a join to the clients)."""
    return _report("report_wip", firm, "group=partner")


# Which index each report's query reads at 100,000 invoices -----------------------------

# name -> (page under /o/<slug>/, the indexes its grouped queries must read): the
# totals from the firm's days (billing_moneyday), the rows from the clients with
# the most (billing_clientbalance) and their own entries or invoices.
# (The days are a few thousand rows: PostgreSQL reads them whole.)
PLANS = {
    "ar_ageing": ("billing/reports/ageing/", ("clientbalance_open",)),
    "wip_by_client": (
        "billing/reports/",
        ("clientbalance_wip", "timeentry_unbilled"),
    ),
    "wip_by_partner": ("billing/reports/?group=partner", ()),
}


@register_measure("billing_query_plans")
def billing_query_plans(*, stdout) -> list[dict]:
    """EXPLAIN ANALYZE of the reports' grouped queries in bench-100k, captured
    from real requests as the owner: PostgreSQL's own time for each page (its
    grouped queries together), and a miss when they do not read the indexes
    built for them."""
    firm = bench_firm_ensure("bench-100k")
    with tenant_context(firm.organization):
        if not Invoice.objects.filter(organization=firm.organization).exists():
            raise MeasureSkipped("bench-100k has no invoices: run make bench first")
    records = []
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
    ):
        http = HttpClient()
        http.force_login(firm.owner)
        for name, (page, expected) in PLANS.items():
            path = f"/o/{firm.organization.slug}/{page}"
            http.get(path)
            with CaptureQueriesContext(connection) as captured:
                http.get(path)
            used, ms = set(), 0.0
            with tenant_context(firm.organization):
                for query in captured.captured_queries:
                    if "GROUPING SETS" in query["sql"]:
                        read, took = query_plan(query["sql"])
                        used |= read
                        ms += took
            missing = [index for index in expected if index not in used]
            stdout.write(
                f"  {name}: {ms:.2f} ms in PostgreSQL, reads {', '.join(sorted(used))}"
            )
            record = {
                "name": f"plan.{name}_ms",
                "value": round(ms, 2),
                "unit": "ms",
                "dataset_size": 100_000,
            }
            if missing:
                record["missed"] = f"does not read {', '.join(missing)}"
            records.append(record)
    return records
