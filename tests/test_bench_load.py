"""The tax-season load measure's pure parts (bench/load.py): no load, no server."""

from __future__ import annotations

from io import StringIO

import pytest
from django.test import Client as HttpClient
from django.test.utils import override_settings

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership
from bench import harness as bench
from bench.load import Tally, page_cycle, percentile, recovery, staff_ensure, summary


def test_percentiles_are_nearest_rank_values_measured():
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unordered
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7
    assert percentile([1.0, 2.0, 3.0], 50) == 2
    with pytest.raises(ValueError):
        percentile([], 50)
    figures = summary([0.010, 0.020, 0.030, 0.040], wall=2.0)
    assert figures == {
        "pages_s": 2.0,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "p99_ms": 40.0,
        "pages": 4,
    }


def test_windows_and_recovery_count_only_their_own_stretch():
    tally = Tally(
        times=[(1.0, 0.1, "board"), (2.0, 0.2, "board"), (5.0, 0.3, "my_work")],
        errors=[(3.0, "503 board"), (3.5, "RemoteDisconnected"), (9.0, "503 x")],
    )
    assert tally.window(1.5, 6.0) == [0.2, 0.3]
    assert tally.by_page(0.0, 6.0) == {"board": [100.0, 200.0], "my_work": [300.0]}
    assert tally.errors_in(3.0, 4.0) == ["503 board", "RemoteDisconnected"]
    assert recovery(tally.errors, 2.5, 8.0) == 1.0  # the last error at 3.5
    assert recovery(tally.errors, 4.0, 8.0) == 0.0  # none after the fault


@pytest.mark.django_db
def test_twenty_staff_sessions_get_every_page_of_the_cycle_on_a_small_firm():
    bench.run(stdout=StringIO(), firms=(("bench-a", 40),), only="client_page", runs=1)
    small = bench.bench_firm_ensure("bench-few", members=3)
    users = staff_ensure(small.organization)
    assert len(users) == 20 == len(set(users))
    assert staff_ensure(small.organization) == users  # idempotent
    with tenant_context(small.organization):
        assert Membership.objects.filter(is_active=True).count() == 20
    firm = bench.bench_firm_ensure("bench-a")
    users = staff_ensure(firm.organization)  # it has enough: no one added
    assert not any(u.email.startswith("load.") for u in users)
    with tenant_context(firm.organization):
        cycle = page_cycle(firm.organization)
    assert list(cycle) == [
        "client_list",
        "client_search",
        "client_page",
        "documents_search",
        "my_work",
        "board",
        "invoice_list",
    ]
    with override_settings(DEBUG=False):
        for user in (users[0], users[-1]):  # the owner and a staff member
            http = HttpClient()
            http.force_login(user)
            for name, path in cycle.items():
                assert http.get(path).status_code == 200, name
