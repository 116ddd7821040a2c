"""The benchmark suite behind `make bench`: big firms, real pages, server-side times.

Development only: the `bench` app is installed when DEBUG is on or BENCH is
true (advisoros/settings.py; the Makefile's bench targets set BENCH=true), and
no production app imports it.

`manage.py run_bench` makes sure two firms exist in the database it runs on,
`bench-1k` and `bench-100k` (1,000 and 100,000 clients), filling them through
the registered seeders when they are missing or short (the first run is slow,
later runs reuse them). Then, for every registered scenario, it requests the
scenario's page in both firms through the whole Django stack in-process
(`django.test.Client`, signed in as the firm's owner, every middleware, no
network): 5 warm-up requests, then 60 measured ones, alternating between the
two firms so a noisy neighbour slows both alike. It reports p50 and p95 in
milliseconds, the number of SQL queries of one request, and the 100k/1k ratio
of the p95, as a table and as `var/bench/results.json`: a list of
`{"name": "<scenario>.<metric>", "value", "unit", "dataset_size"}` with the
metrics p50_ms, p95_ms, queries and p95_ratio (dataset_size of a ratio: the
large firm's size).

Django's floor (`django_floor`, bench/views.py): a bare page outside the firm
frame (no firm, memberships or navigation: the tenancy middleware only clears
the RLS settings around it) that renders a 50-row table from one query
through the same template engine. It is requested as the firm's owner
right after each measured page request, so it shares the page's
moment on a busy machine; the table prints beside each page the floor's p95
measured alongside it ("floor ms") and the page's p95 in units of it
("floor x", also `<scenario>.floor_ratio` in the JSON). The `django_floor`
rows pool every floor request of the run. A page's milliseconds move with the
machine's load; its floor ratio much less, which makes runs on a busy machine
comparable.

An app adds to it with a module `bench/<app>.py` named in MODULES below::

    from django.urls import reverse

    from bench.harness import BenchFirm, copy_rows, register_bench_seeder, register_scenario


    @register_bench_seeder
    def seed_documents(*, firm: BenchFirm, stdout) -> None:
        # Idempotent top-up: add what `firm` lacks for `firm.size` clients.
        # Runs inside tenant_context(firm.organization); copy_rows() inserts fast.
        ...


    @register_scenario("document_list")
    def document_list(firm: BenchFirm) -> str:
        # The path to measure. Runs inside the firm's context: it may query
        # (pick a document) or request pages with firm.http (follow a cursor).
        return reverse("documents:document_list", args=[firm.organization.slug])

A page the owner's staff login does not open (the client portal, which has its
own sign-in) names the client to request it with:
`@register_scenario("portal_home", http_for=portal_http)`, where
`portal_http(firm)` returns a test client signed in as it should be
(bench/portal.py).

Seeders run in MODULES order (so clients first);
scenarios are reported in registration order, after the floor. The targets
(issue 3): p95 under 25 ms at 100,000 clients (or the scenario's own
`target_p95_ms`: 100 ms for the money reports that add up a whole ledger,
issue 13), a 100k/1k ratio under 1.3, the same query count at both sizes.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import database_vacuum
from advisoros.tenancy.models import Membership, Organization, Role

BENCH_FIRMS: tuple[tuple[str, int], ...] = (
    ("bench-1k", 1_000),
    ("bench-100k", 100_000),
)
WARMUP = 5
RUNS = 60
RESULTS = Path(settings.BASE_DIR) / "var" / "bench" / "results.json"
TARGET_P95_MS = 25.0
TARGET_RATIO = 1.3
# The modules that register seeders, scenarios and measures, in order.
MODULES = (
    "bench.clients",
    "bench.documents_ocr",
    "bench.documents_search",
    "bench.documents_upload",
    "bench.documents_scan",
    "bench.workflows_recurrence",
    "bench.workflows",
    "bench.portal",
    "bench.tenancy",
    "bench.firm_export",
    "bench.billing",
    "bench.stripe_webhooks",
    "bench.billing_invoices",
    "bench.billing_time",
    "bench.dashboard",
    "bench.reports",
    "bench.quickbooks",
    "bench.load",
)
FLOOR = "django_floor"


@dataclass
class BenchFirm:
    organization: Organization
    owner: User
    size: int  # clients
    http: HttpClient | None = None  # signed in as the owner (during scenarios)


Seeder = Callable[..., None]
PathFor = Callable[[BenchFirm], str]
# A scenario's own signed-in test client, for pages the owner's staff login does
# not open (the client portal: its own sign-in, portal.session).
HttpFor = Callable[[BenchFirm], HttpClient]


@dataclass
class Scenario:
    name: str
    path_for: PathFor
    http_for: HttpFor | None = None  # None: the firm's owner (BenchFirm.http)
    # The p95 the large firm's page must stay under (a report that adds up a
    # whole ledger gets more than a list's page).
    target_p95_ms: float = TARGET_P95_MS

    def http(self, firm: BenchFirm) -> HttpClient:
        return self.http_for(firm) if self.http_for else firm.http


_seeders: list[Seeder] = []
_scenarios: dict[str, Scenario] = {}
# Benchmarks that are not a page (upload throughput, OCR per page, a search at a
# million rows): `fn(*, stdout) -> list[record]`, each record a dict like the
# JSON's ({"name", "value", "unit", "dataset_size"}) plus, optionally,
# "missed": "<what the target was>" when the figure misses its target.
Measure = Callable[..., list[dict]]
_measures: dict[str, Measure] = {}


class MeasureSkipped(Exception):  # noqa: N818 (a state, not an error)
    """Raised by a measure that cannot run here (its data is not seeded): the run
    goes on, prints the reason and lists it among the misses."""


def register_bench_seeder(seeder: Seeder) -> Seeder:
    """`seeder(firm=BenchFirm, stdout=...)`, idempotent, inside the firm's context."""
    if seeder not in _seeders:
        _seeders.append(seeder)
    return seeder


def register_scenario(
    name: str,
    *,
    http_for: HttpFor | None = None,
    target_p95_ms: float = TARGET_P95_MS,
) -> Callable[[PathFor], PathFor]:
    """`path_for(firm) -> path`, requested as the firm's owner, or with the client
    `http_for(firm)` returns (called once a firm at the start of the scenario).
    `target_p95_ms`: the scenario's own p95 target, when not the lists' 25 ms."""

    def decorator(path_for: PathFor) -> PathFor:
        _scenarios[name] = Scenario(name, path_for, http_for, target_p95_ms)
        return path_for

    return decorator


def register_measure(name: str) -> Callable[[Measure], Measure]:
    """Register a non-page benchmark (see `Measure`); `--only` matches its name."""

    def decorator(fn: Measure) -> Measure:
        _measures[name] = fn
        return fn

    return decorator


def chosen_by(only: str, name: str) -> bool:
    """`--only`: names containing it, or any of its comma-separated parts."""
    return not only or any(part and part in name for part in only.split(","))


def discover() -> None:
    for module in MODULES:
        import_module(module)


def bench_seeders() -> list[Seeder]:
    """In MODULES order, whichever module was imported first (a test may import
    bench.portal before discover() imports bench.clients, whose clients it needs)."""
    order = {module: i for i, module in enumerate(MODULES)}
    return sorted(_seeders, key=lambda s: order.get(s.__module__, len(order)))


def scenarios() -> list[Scenario]:
    return list(_scenarios.values())


# Firms and their people ---------------------------------------------------------


def _split(text: str) -> list[str]:
    return text.split()


_FIRST = _split(
    "Alex Blake Casey Dana Elliot Frankie Gale Harper Indra Jordan Kai Logan "
    "Morgan Noor Oakley Parker Quinn Riley Sage Taylor Uma Val Wren Yuri"
)
_LAST = _split(
    "Abbott Brooks Chen Dalton Evans Fischer Garcia Haddad Ito Jensen Kowalski "
    "Lindqvist Moreau Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka"
)


def bench_firm_ensure(slug: str, *, members: int = 20) -> BenchFirm:
    """The firm `slug` with an owner and, when it has no one else, `members` bench
    users (a fifth admins, who partner clients; three tenths managers; the rest
    staff). Users get unusable passwords: the bench signs in with force_login."""
    organization, _ = Organization.objects.get_or_create(
        slug=slug, defaults={"name": f"Bench firm {slug}"}
    )
    with tenant_context(organization):
        owner_membership = (
            Membership.objects.filter(
                organization=organization, role=Role.OWNER, is_active=True
            )
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if owner_membership is None:
            owner = _bench_user(f"owner@{slug}.bench.test", "Bench Owner")
            Membership.objects.create(
                organization=organization, user=owner, role=Role.OWNER
            )
        else:
            owner = owner_membership.user
        others = (
            Membership.objects.filter(organization=organization, is_active=True)
            .exclude(user=owner)
            .count()
        )
        if not others:
            for i in range(members):
                role = (
                    Role.ADMIN
                    if i < members // 5
                    else Role.MANAGER
                    if i < members // 2
                    else Role.STAFF
                )
                first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
                user = _bench_user(
                    f"{first}.{last}.{i}@{slug}.bench.test".lower(), f"{first} {last}"
                )
                Membership.objects.create(
                    organization=organization, user=user, role=role
                )
    return BenchFirm(organization=organization, owner=owner, size=0)


def _bench_user(email: str, name: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    return user or User.objects.create_user(email, None, name=name)


# Fast inserts -------------------------------------------------------------------


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys from the table's sequence, so rows can be linked
    before they are inserted."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s))"
            " FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def time_uuid() -> uuid.UUID:
    """A version 7 UUID: milliseconds first, then random bits. Bulk rows get these
    so the unique uuid indexes grow at their right edge instead of everywhere."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10))
    return uuid.UUID(
        int=(ms << 80)
        | (0x7 << 76)
        | ((rand >> 62) & 0xFFF) << 64
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (tuples in the order of `columns`, which are column names) fast.

    PostgreSQL refuses COPY FROM into a table with row-level security ("COPY
    FROM not supported with row-level security"), so the rows are COPY'd into
    a temporary table first and moved with one INSERT ... SELECT, which goes
    through the table's policy: a row of another firm than the current
    tenant_context fails the WITH CHECK. Columns not given get the field's
    default: a time-ordered uuid per row, a fresh default per row for other
    unique fields, one value for the whole batch otherwise (timestamps: now).
    """
    table = model._meta.db_table
    given = list(columns)
    filled: list[tuple[str, Callable[[], Any]]] = []
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key or f.generated:
            continue
        if isinstance(f, models.UUIDField) and f.has_default():
            filled.append((f.column, time_uuid))
        elif f.unique and f.has_default():
            filled.append((f.column, f.get_default))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            now = timezone.now()
            filled.append((f.column, lambda now=now: now))
        elif f.has_default():
            value = f.get_db_prep_save(f.get_default(), connection)
            filled.append((f.column, lambda value=value: value))
        elif f.null:
            continue
        elif f.blank and f.empty_strings_allowed:
            filled.append((f.column, str))
        else:
            raise ValueError(f"copy_rows({table}): give a value for {f.column}.")
    all_columns = given + [c for c, _ in filled]
    makers = [make for _, make in filled]
    cols = ", ".join(connection.ops.quote_name(c) for c in all_columns)
    staging = connection.ops.quote_name(f"_copy_{table}")
    quoted = connection.ops.quote_name(table)
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} AS SELECT {cols} FROM {quoted}"  # noqa: S608
            " WITH NO DATA"
        )
        with cursor.copy(f"COPY {staging} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *(make() for make in makers)) if makers else row)
                count += 1
        cursor.execute(
            f"INSERT INTO {quoted} ({cols}) SELECT {cols} FROM {staging}"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {staging}")
    return count


# Measuring ----------------------------------------------------------------------


def query_plan(sql: str) -> tuple[set[str], float]:
    """EXPLAIN ANALYZE `sql` (run it inside the firm's tenant_context: row-level
    security applies): the indexes its plan reads and its execution time in ms."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    used, todo = set(), [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        if "Index Name" in node:
            used.add(node["Index Name"])
        todo.extend(node.get("Plans", []))
    return used, plan[0]["Execution Time"]


def _p95(times_ms: Sequence[float]) -> float:
    ordered = sorted(times_ms)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


@dataclass
class Measurement:
    scenario: str
    size: int
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    target_p95_ms: float = TARGET_P95_MS
    # Django's floor, requested (as the owner) after each of these requests.
    floor_ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return _p95(self.times_ms)

    @property
    def floor_p95(self) -> float | None:
        return _p95(self.floor_ms) if self.floor_ms else None

    @property
    def floor_ratio(self) -> float | None:
        """The page's p95 in units of the floor's p95 measured alongside it."""
        floor = self.floor_p95
        return self.p95 / floor if floor else None


def _floor_path(firm: BenchFirm) -> str:
    return reverse("bench:floor")


# Django's floor (bench/views.py): measured with every page, never chosen by --only.
FLOOR_SCENARIO = Scenario(FLOOR, _floor_path)


def _get(http: HttpClient, path: str) -> float:
    started = time.perf_counter()
    response = http.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return elapsed


def _count_queries(http: HttpClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(http, path)
    return len(queries)


def measure(
    firms: list[BenchFirm],
    scenario: Scenario,
    *,
    floor: Scenario | None = FLOOR_SCENARIO,
    warmup: int = WARMUP,
    runs: int = RUNS,
) -> list[Measurement]:
    """The scenario in every firm: warm-ups, then measured requests taking turns,
    each followed by a request of the floor (when given) as the firm's owner, the
    same yardstick whichever client the scenario requests its page with."""
    paths, https = [], []
    for firm in firms:
        with tenant_context(firm.organization):
            paths.append(scenario.path_for(firm))
        https.append(scenario.http(firm))
    floor_path = floor.path_for(firms[0]) if floor else ""
    results = [
        Measurement(scenario.name, firm.size, target_p95_ms=scenario.target_p95_ms)
        for firm in firms
    ]
    for firm, http, path in zip(firms, https, paths, strict=True):
        for _ in range(warmup):
            _get(http, path)
            if floor:
                _get(firm.http, floor_path)
    for _ in range(runs):
        for firm, http, path, result in zip(firms, https, paths, results, strict=True):
            result.times_ms.append(_get(http, path))
            if floor:
                result.floor_ms.append(_get(firm.http, floor_path))
    for http, path, result in zip(https, paths, results, strict=True):
        result.queries = _count_queries(http, path)
    return results


def _floor_measurements(
    firms: list[BenchFirm], pages: list[Measurement]
) -> list[Measurement]:
    """The floor's own rows: every floor request of the run, pooled by firm."""
    path = _floor_path(firms[0])
    return [
        Measurement(
            FLOOR,
            firm.size,
            times_ms=[t for m in pages if m.size == firm.size for t in m.floor_ms],
            queries=_count_queries(firm.http, path),
        )
        for firm in firms
    ]


def run(
    *,
    stdout,
    firms: Sequence[tuple[str, int]] = BENCH_FIRMS,
    only: str = "",
    runs: int = RUNS,
) -> list[Measurement]:
    """Seed the firms, measure the chosen scenarios; the floor's rows come first."""
    discover()
    chosen = [s for s in scenarios() if chosen_by(only, s.name)]
    if not chosen:
        return []
    bench_firms = []
    for slug, size in firms:
        firm = bench_firm_ensure(slug)
        firm.size = size
        with tenant_context(firm.organization):
            for seeder in bench_seeders():
                seeder(firm=firm, stdout=stdout)
        bench_firms.append(firm)
    # A settled database, as autovacuum leaves it (dbroles.database_vacuum).
    database_vacuum()
    # Production-like: no query logging (DEBUG), the test client's host allowed.
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
    ):
        for firm in bench_firms:
            firm.http = HttpClient()
            firm.http.force_login(firm.owner)
        pages: list[Measurement] = []
        for scenario in chosen:
            pages.extend(measure(bench_firms, scenario, runs=runs))
        return _floor_measurements(bench_firms, pages) + pages


def run_measures(*, stdout, only: str = "") -> list[dict]:
    """Run the registered non-page benchmarks; print and return their records."""
    discover()
    records: list[dict] = []
    for name, fn in _measures.items():
        if not chosen_by(only, name):
            continue
        stdout.write(f"--- {name}")
        try:
            measured = fn(stdout=stdout)
        except MeasureSkipped as skipped:
            stdout.write(f"  skipped: {skipped}")
            records.append({"name": name, "skipped": str(skipped)})
            continue
        for record in measured:
            size = record.get("dataset_size")
            stdout.write(
                f"{record['name']:<48} {record['value']:>12} {record['unit']:<8}"
                + (f" (size {size})" if size is not None else "")
            )
            records.append(record)
    return records


def report(
    results: list[Measurement],
    *,
    stdout,
    path: Path = RESULTS,
    extra: Sequence[dict] = (),
) -> list[dict]:
    """Print the table and write the JSON (page records, then `extra`); return them."""
    records: list[dict] = []
    by_scenario: dict[str, list[Measurement]] = {}
    for m in results:
        by_scenario.setdefault(m.scenario, []).append(m)
    width = max([len("scenario"), *(len(name) for name in by_scenario)])
    head = (
        f"{'scenario':<{width}}  {'size':>7}  {'p50 ms':>7}  {'p95 ms':>7}"
        f"  {'queries':>7}  {'ratio':>6}  {'floor ms':>8}  {'floor x':>7}"
    )
    stdout.write(head)
    stdout.write("-" * len(head))
    for name, ms in by_scenario.items():
        ms.sort(key=lambda m: m.size)
        small, large = ms[0], ms[-1]
        ratio = large.p95 / small.p95 if small.p95 else 0.0
        for m in ms:
            shown_ratio = f"{ratio:6.2f}" if m is large and len(ms) > 1 else ""
            floor_ms = f"{m.floor_p95:8.2f}" if m.floor_p95 else ""
            floor_x = f"{m.floor_ratio:7.2f}" if m.floor_ratio else ""
            stdout.write(
                f"{name:<{width}}  {m.size:>7}  {m.p50:7.2f}  {m.p95:7.2f}"
                f"  {m.queries:>7}  {shown_ratio:>6}  {floor_ms:>8}  {floor_x:>7}"
            )
            records += [
                {
                    "name": f"{name}.p50_ms",
                    "value": round(m.p50, 2),
                    "unit": "ms",
                    "dataset_size": m.size,
                },
                {
                    "name": f"{name}.p95_ms",
                    "value": round(m.p95, 2),
                    "unit": "ms",
                    "dataset_size": m.size,
                },
                {
                    "name": f"{name}.queries",
                    "value": m.queries,
                    "unit": "queries",
                    "dataset_size": m.size,
                },
            ]
            if m.floor_ratio:
                records.append(
                    {
                        "name": f"{name}.floor_ratio",
                        "value": round(m.floor_ratio, 2),
                        "unit": "ratio",
                        "dataset_size": m.size,
                    }
                )
        if len(ms) > 1:
            records.append(
                {
                    "name": f"{name}.p95_ratio",
                    "value": round(ratio, 3),
                    "unit": "ratio",
                    "dataset_size": large.size,
                }
            )
    records += [
        {k: v for k, v in r.items() if k != "missed"}
        for r in extra
        if "skipped" not in r
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2) + "\n")
    return records


def misses(results: list[Measurement], extra: Sequence[dict] = ()) -> list[str]:
    """The targets a run missed, in words (empty when all are met)."""
    found = [f"{r['name']}: {r['missed']}" for r in extra if r.get("missed")]
    found += [
        f"{r['name']}: not measured ({r['skipped']})" for r in extra if r.get("skipped")
    ]
    by_scenario: dict[str, list[Measurement]] = {}
    for m in results:
        by_scenario.setdefault(m.scenario, []).append(m)
    by_scenario.pop(FLOOR, None)  # the yardstick, not a page
    for name, ms in by_scenario.items():
        ms.sort(key=lambda m: m.size)
        small, large = ms[0], ms[-1]
        if large.p95 >= large.target_p95_ms:
            found.append(f"{name}: p95 {large.p95:.1f} ms at {large.size} clients")
        if len(ms) > 1 and small.p95 and large.p95 / small.p95 >= TARGET_RATIO:
            found.append(f"{name}: 100k/1k ratio {large.p95 / small.p95:.2f}")
        if len({m.queries for m in ms}) > 1:
            found.append(f"{name}: query counts differ ({[m.queries for m in ms]})")
    return found
