"""Sync runs of the firm's books against the stand-in: a first full sync in
pages, then CDC from the stored cursor, run after run; a 429 waited out; a
5xx in the middle of a full sync resumed from its cursor; every run
recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connections
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from integrations.quickbooks.models import QuickBooksLink, SyncRun
from integrations.quickbooks.sync import quickbooks_sync_run, run_lock_key
from tests.integrations.quickbooks.conftest import FIRM_REALM, connect, sync

API = f"/v3/company/{FIRM_REALM}/"


def client_names(org) -> list[str]:
    with tenant_context(org):
        return sorted(Client.objects.values_list("display_name", flat=True))


def add_customers(company, *names: str) -> list[dict]:
    return [
        company.add(
            "Customer",
            DisplayName=name,
            PrimaryEmailAddr={"Address": f"{name.split()[0].lower()}@books.test"},
        )
        for name in names
    ]


def test_a_first_sync_reads_every_customer_in_pages_and_records_the_run(
    cast, alpha_books, firm_company, intuit_standin
):
    add_customers(firm_company, "Acme Ltd", "Birch LLC", "Cedar Inc")

    run = sync(alpha_books, page_size=2)

    assert run.kind == SyncRun.Kind.FULL
    assert run.status == SyncRun.Status.SUCCEEDED
    assert client_names(cast.alpha) == ["Acme Ltd", "Birch LLC", "Cedar Inc"]
    assert run.counts["Customer"] == {"created": 3}
    # Customers in two pages (2 + 1), one page each for invoices, credit memos
    # and payments.
    queries = [r.query["query"] for r in intuit_standin.requests_to(API + "query")]
    assert queries == [
        "select * from Customer STARTPOSITION 1 MAXRESULTS 2",
        "select * from Customer STARTPOSITION 3 MAXRESULTS 2",
        "select * from Invoice STARTPOSITION 1 MAXRESULTS 2",
        "select * from CreditMemo STARTPOSITION 1 MAXRESULTS 2",
        "select * from Payment STARTPOSITION 1 MAXRESULTS 2",
    ]
    assert run.requests_made == 5
    assert run.cursor.startswith("cdc:")
    assert run.duration_ms is not None and run.finished_at is not None


def test_each_incremental_run_asks_cdc_from_where_the_last_one_ended(
    cast, alpha_books, firm_company, intuit_standin
):
    acme, birch = add_customers(firm_company, "Acme Ltd", "Birch LLC")
    first = sync(alpha_books)
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings Ltd")

    second = sync(alpha_books)
    firm_company.touch("Customer", birch["Id"], DisplayName="Birch & Sons LLC")
    third = sync(alpha_books)

    assert [second.kind, third.kind] == [SyncRun.Kind.INCREMENTAL] * 2
    cdc = intuit_standin.requests_to(API + "cdc")
    # One CDC request per entity per run, each from the previous run's cursor.
    entities = ["Customer", "Invoice", "CreditMemo", "Payment"]
    assert [r.query["entities"] for r in cdc] == entities * 2
    assert {r.query["changedSince"] for r in cdc[:4]} == {first.cursor[4:]}
    assert {r.query["changedSince"] for r in cdc[4:]} == {second.cursor[4:]}
    assert second.counts["Customer"]["updated"] == 1
    assert third.counts["Customer"]["updated"] == 1
    assert client_names(cast.alpha) == ["Acme Holdings Ltd", "Birch & Sons LLC"]
    # Only the first run read everything.
    assert len(intuit_standin.requests_to(API + "query")) == 4


def test_a_cursor_older_than_cdc_reaches_starts_a_full_sync_again(
    cast, alpha_books, firm_company, intuit_standin
):
    add_customers(firm_company, "Acme Ltd")
    first = sync(alpha_books)
    old = timezone.now() - timedelta(days=31)
    with tenant_context(cast.alpha):
        SyncRun.objects.filter(pk=first.pk).update(
            cursor="cdc:" + old.isoformat(timespec="seconds")
        )

    again = sync(alpha_books)

    assert again.kind == SyncRun.Kind.FULL
    assert again.status == SyncRun.Status.SUCCEEDED
    assert intuit_standin.requests_to(API + "cdc") == []
    assert again.counts["Customer"] == {"unchanged": 1}
    assert client_names(cast.alpha) == ["Acme Ltd"]


def test_a_429_during_a_sync_is_waited_out_and_the_run_succeeds(
    cast, alpha_books, firm_company, intuit_standin, fast_retries
):
    add_customers(firm_company, "Acme Ltd", "Birch LLC")
    intuit_standin.fail_next(API + "query", status=429, retry_after="0")

    run = sync(alpha_books)

    assert run.status == SyncRun.Status.SUCCEEDED
    statuses = [r.status for r in intuit_standin.requests_to(API + "query")]
    assert statuses == [429, 200, 200, 200, 200]
    assert run.requests_made == 5
    assert client_names(cast.alpha) == ["Acme Ltd", "Birch LLC"]


def test_a_5xx_in_the_middle_of_a_full_sync_resumes_from_its_cursor(
    cast, alpha_books, firm_company, intuit_standin, fast_retries, settings
):
    settings.QUICKBOOKS_MAX_ATTEMPTS = 2
    add_customers(firm_company, "Acme Ltd", "Birch LLC", "Cedar Inc", "Dune Co")
    # The first page is answered; the second fails on every try.
    intuit_standin.fail_next(API + "query", status=503, after=1, times=2)

    failed = sync(alpha_books, page_size=2)

    assert failed.status == SyncRun.Status.FAILED
    assert failed.kind == SyncRun.Kind.FULL
    assert client_names(cast.alpha) == ["Acme Ltd", "Birch LLC"]
    started = failed.cursor.split(":", 1)[1].rsplit(":", 2)[0]
    assert failed.cursor == f"full:{started}:Customer:3"
    assert "503" in failed.errors[-1]["message"]
    intuit_standin.requests.clear()

    resumed = sync(alpha_books, page_size=2)

    assert resumed.kind == SyncRun.Kind.FULL
    assert resumed.status == SyncRun.Status.SUCCEEDED
    first = intuit_standin.requests_to(API + "query")[0]
    assert first.query["query"] == "select * from Customer STARTPOSITION 3 MAXRESULTS 2"
    assert resumed.counts["Customer"] == {"created": 2}
    assert client_names(cast.alpha) == [
        "Acme Ltd",
        "Birch LLC",
        "Cedar Inc",
        "Dune Co",
    ]
    # CDC continues from when the interrupted full sync began.
    assert resumed.cursor == f"cdc:{started}"
    with tenant_context(cast.alpha):
        assert QuickBooksLink.objects.count() == 4


def test_a_run_is_skipped_while_another_holds_the_connection(
    cast, alpha_books, firm_company
):
    # Another worker's run: its own session holds the connection's lock.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [run_lock_key(alpha_books)])
        with tenant_context(cast.alpha):
            assert quickbooks_sync_run(connection=alpha_books) is None
            assert not SyncRun.objects.exists()
    finally:
        other.close()


def test_a_full_cdc_answer_is_followed_from_its_last_objects_time(
    cast, alpha_books, firm_company, intuit_standin
):
    first = sync(alpha_books)
    since = datetime.fromisoformat(first.cursor[4:])
    # 1,001 payments made in QuickBooks (against invoices made there: read,
    # then skipped), one a second: more than one CDC answer holds.
    for n in range(1001):
        payment = firm_company.add("Payment", TotalAmt=10, Line=[])
        moment = since + timedelta(seconds=n)
        payment["MetaData"]["LastUpdatedTime"] = moment.isoformat()

    run = sync(alpha_books)

    asked = [
        r.query["changedSince"]
        for r in intuit_standin.requests_to(API + "cdc")
        if r.query["entities"] == "Payment"
    ]
    last_of_first = (since + timedelta(seconds=999)).isoformat(timespec="seconds")
    assert asked == [first.cursor[4:], last_of_first]
    # 1,000, then the last second's two again (applying twice changes nothing).
    assert run.counts["Payment"] == {"skipped": 1002}
    assert run.status == SyncRun.Status.SUCCEEDED


def test_the_schedule_syncs_each_firm_whose_books_are_connected(
    cast, alpha_books, firm_company, intuit_standin, run_schedule
):
    from integrations.quickbooks.tasks import quickbooks_sync_due

    beta_company = intuit_standin.add_company("3003", name="Beta Books")
    beta_books = connect(cast.beta, cast.oscar, intuit_standin, "3003")
    firm_company.add("Customer", DisplayName="Acme Ltd")
    beta_company.add("Customer", DisplayName="Bolt Inc")

    assert run_schedule(quickbooks_sync_due) == 2

    for org, books, name in (
        (cast.alpha, alpha_books, "Acme Ltd"),
        (cast.beta, beta_books, "Bolt Inc"),
    ):
        with tenant_context(org):
            (run,) = SyncRun.objects.filter(connection=books)
            assert run.status == SyncRun.Status.SUCCEEDED
        assert client_names(org) == [name]
