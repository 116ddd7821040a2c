"""The reports bench data (bench/reports.py): a client with 2,000 accounts and
36 balanced monthly trial balances, seeded once, whose statement pages the
bench measures."""

from __future__ import annotations

import time

import pytest

from advisoros.tenancy.db import tenant_context
from bench import harness as bench
from bench.reports import ACCOUNTS, MONTHS, seed_ledger
from clients.models import Client
from reports.models import LedgerAccount, TrialBalance, TrialBalanceLine

pytestmark = pytest.mark.django_db


def test_it_seeds_the_big_ledger_once_and_each_statement_page_answers(client):
    firm = bench.bench_firm_ensure("bench-ledger", members=2)
    bench.discover()
    org = firm.organization
    with tenant_context(org):
        from bench.clients_seed import seed_clients

        seed_clients(organization=org, clients=3)
        written = seed_ledger(organization=org)
        again = seed_ledger(organization=org)

        assert written == ACCOUNTS * MONTHS and again == 0
        # One of the firm's clients got it: the firm keeps its size.
        assert Client.objects.count() == 3
        assert TrialBalance.objects.values("client").distinct().count() == 1
        assert LedgerAccount.objects.count() == ACCOUNTS
        assert TrialBalance.objects.count() == MONTHS
        assert TrialBalanceLine.objects.count() == ACCOUNTS * MONTHS
    client.force_login(firm.owner)
    names = [s for s in bench.scenarios() if s.name.startswith("statement_")]
    assert len(names) == 5
    for scenario in names:
        with tenant_context(org):
            path = scenario.path_for(firm)
        client.get(path)
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, scenario.name
        report = response.context["report"]
        assert report.has_data, scenario.name
        assert False not in report.checks, scenario.name
        print(f"{scenario.name}: {elapsed * 1000:.0f} ms")  # noqa: T201
