"""Intuit's limits per company, kept across processes: at most N requests at
once (PostgreSQL advisory locks, one connection per worker here as in
production) and at most M a minute (a counter in the cache)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db

from integrations.quickbooks.limits import LimitWaitExceeded, RealmLimiter


@pytest.mark.django_db(transaction=True)
def test_no_more_than_the_concurrency_run_at_once_across_connections():
    inside = 0
    most = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        nonlocal inside, most
        try:
            for _ in range(3):
                with RealmLimiter("77", concurrency=2, per_window=1000).slot():
                    with lock:
                        inside += 1
                        most = max(most, inside)
                    time.sleep(0.05)
                    with lock:
                        inside -= 1
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert most == 2


@pytest.mark.django_db(transaction=True)
def test_a_slot_is_given_back_when_its_worker_dies():
    taken = threading.Event()

    def dies_holding_a_slot() -> None:
        limiter = RealmLimiter("78", concurrency=1, per_window=1000)
        key = limiter._take_slot(time.monotonic() + 5)
        assert key
        taken.set()
        db.close()  # the process ends: the server drops its locks

    thread = threading.Thread(target=dies_holding_a_slot)
    thread.start()
    thread.join(10)
    assert taken.is_set()

    with RealmLimiter("78", concurrency=1, per_window=1000, max_wait=2).slot():
        pass  # free again


@pytest.mark.django_db
def test_a_spent_minute_is_refused_when_the_caller_cannot_wait():
    budget = RealmLimiter("79", concurrency=1, per_window=2, max_wait=0)
    for _ in range(2):
        with budget.slot():
            pass

    with pytest.raises(LimitWaitExceeded, match="used its 2 requests"):
        with budget.slot():
            pass


@pytest.mark.django_db
def test_the_minutes_budget_moves_to_the_next_window():
    limiter = RealmLimiter("80", concurrency=1, per_window=3, window_seconds=1)
    # Start at the beginning of a window, so the first three share it.
    time.sleep(1 - (time.time() % 1) + 0.01)
    began = time.time()
    starts = []
    for _ in range(4):
        with limiter.slot():
            starts.append(time.time())

    assert all(int(s) == int(began) for s in starts[:3])
    assert int(starts[3]) == int(began) + 1


@pytest.mark.django_db(transaction=True)
def test_the_client_never_has_more_than_ten_requests_at_intuit_at_once(
    cast, intuit_standin, firm_company
):
    from advisoros.tenancy.db import tenant_context
    from integrations.quickbooks.client import QuickBooksClient
    from integrations.quickbooks.models import QuickBooksConnection
    from tests.integrations.quickbooks.conftest import FIRM_REALM, connect

    books = connect(cast.alpha, cast.alice, intuit_standin, FIRM_REALM)
    customer = firm_company.add("Customer", DisplayName="Jane Doe")
    # Every answer takes a while, so fourteen workers pile up.
    intuit_standin.fail_next(
        f"/v3/company/{FIRM_REALM}/customer/", status=None, delay=0.3, times=28
    )
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with tenant_context(cast.alpha):
                mine = QuickBooksConnection.objects.get(pk=books.pk)
                api = QuickBooksClient(mine)
                for _ in range(2):
                    api.read("Customer", customer["Id"])
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    reads = intuit_standin.requests_to(f"/v3/company/{FIRM_REALM}/customer/")
    assert [r.status for r in reads] == [200] * 28
    assert intuit_standin.most_in_flight[FIRM_REALM] == 10
