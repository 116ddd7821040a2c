"""The requests outstanding PostgreSQL keeps for the dashboard
(documents.models.OutstandingDay, OutstandingPart; migration documents 0011):
after every kind of write, the whole firm's figures read from the days are
exactly what the request items themselves give."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership
from advisoros.tenancy.offboarding import firm_delete
from documents.models import (
    NO_DUE_DAY,
    DocumentRequest,
    DocumentRequestItem,
    OutstandingDay,
    OutstandingPart,
)
from documents.services import requests as services
from tests.factories import (
    explain,
    index_scans,
    make_client,
    upload_document,
    wait_for_lock_waiters,
)

Item = DocumentRequestItem.Status
STATUSES = (Item.OPEN, Item.REJECTED, Item.RECEIVED, Item.ACCEPTED)


def outstanding(organization, today: date) -> dict[str, int]:
    """The firm's figures from the days, after checking the items give the
    same on `today` and on the days around every due date in play."""
    with tenant_context(organization):
        owner = Membership.objects.filter(organization=organization).first()
        due = set(
            DocumentRequestItem.objects.exclude(due_date=None).values_list(
                "due_date", flat=True
            )
        )
        for day in {today} | due | {d + timedelta(1) for d in due}:
            fast = services.requests_outstanding(owner, today=day)
            slow = services.requests_outstanding(owner, today=day, summaries=False)
            assert fast == slow, day
        return services.requests_outstanding(owner, today=today)


def figures(requests, overdue_requests, owed, overdue, received) -> dict[str, int]:
    return {
        "requests": requests,
        "overdue_requests": overdue_requests,
        "owed": owed,
        "overdue": overdue,
        "received": received,
    }


def _create(client, user, *dues):
    with tenant_context(client.organization):
        return services.document_request_create(
            client=client,
            title="2026 tax documents",
            items=[
                {"title": f"Item {i}", "category": "w2", "due_date": due}
                for i, due in enumerate(dues)
            ],
            created_by=user,
        )


def _items(doc_request) -> list[DocumentRequestItem]:
    with tenant_context(doc_request.organization):
        return list(doc_request.items.order_by("position"))


@pytest.fixture
def today(cast) -> date:
    return firm_today(cast.alpha)


def test_a_request_through_its_life_counts_the_same_both_ways(
    cast, jane, today, media_root
):
    late, soon = today - timedelta(3), today + timedelta(5)
    first = _create(jane, cast.sam, late, soon, None)
    w2, statement, letter = _items(first)
    assert outstanding(cast.alpha, today) == figures(1, 1, 3, 1, 0)

    # The client sends the late item: received, so no longer owed or overdue.
    upload_document(jane, request_item=w2)
    assert outstanding(cast.alpha, today) == figures(1, 0, 2, 0, 1)

    with tenant_context(cast.alpha):
        services.document_request_item_reject(item=w2, by=cast.sam, reason="2025")
    assert outstanding(cast.alpha, today) == figures(1, 1, 3, 1, 0)

    upload_document(jane, request_item=w2, content=b"date,amount\n")
    with tenant_context(cast.alpha):
        services.document_request_item_accept(item=w2, by=cast.sam)
        # The statement is now due earlier, but not before today.
        services.document_request_item_update(item=statement, data={"due_date": today})
    assert outstanding(cast.alpha, today) == figures(1, 0, 2, 0, 0)

    with tenant_context(cast.alpha):
        services.document_request_item_update(
            item=letter, data={"due_date": late - timedelta(1)}
        )
        services.document_request_item_remove(item=statement, by=cast.sam)
    assert outstanding(cast.alpha, today) == figures(1, 1, 1, 1, 0)

    # The last owed item accepted: the request completes and counts no more.
    upload_document(jane, request_item=letter, content=b"letter\n")
    assert outstanding(cast.alpha, today) == figures(1, 0, 0, 0, 1)
    with tenant_context(cast.alpha):
        services.document_request_item_accept(item=letter, by=cast.sam)
        assert DocumentRequest.objects.get(pk=first.pk).status == "completed"
    assert outstanding(cast.alpha, today) == figures(0, 0, 0, 0, 0)

    # One more item opens it again; then it is cancelled.
    with tenant_context(cast.alpha):
        services.document_request_item_add(
            request=first, data={"title": "K-1", "due_date": late}
        )
    assert outstanding(cast.alpha, today) == figures(1, 1, 1, 1, 0)
    second = _create(jane, cast.sam, None)
    assert outstanding(cast.alpha, today) == figures(2, 1, 2, 1, 0)
    with tenant_context(cast.alpha):
        services.document_request_cancel(request=first, by=cast.sam)
    assert outstanding(cast.alpha, today) == figures(1, 0, 1, 0, 0)

    with tenant_context(cast.alpha):
        DocumentRequest.objects.filter(pk=second.pk).delete()
        assert not OutstandingPart.objects.exists()
        assert set(
            OutstandingDay.objects.values_list(
                "request_count", "owed_items", "received_items"
            )
        ) == {(0, 0, 0)}
    assert outstanding(cast.alpha, today) == figures(0, 0, 0, 0, 0)


def test_bulk_writes_across_requests_count_the_same_both_ways(cast, jane, today):
    acme = make_client(cast.alpha, "Acme Widgets")
    with tenant_context(cast.alpha):
        requests = DocumentRequest.objects.bulk_create(
            DocumentRequest(organization=cast.alpha, client=client, title=f"R{i}")
            for i, client in enumerate([jane, acme] * 4)
        )
        # Items in one statement (as an import or the bench seeder writes them).
        DocumentRequestItem.objects.bulk_create(
            DocumentRequestItem(
                organization=cast.alpha,
                request=requests[i % 8],
                position=i,
                title=f"Item {i}",
                status=STATUSES[i // 8 % 4],
                due_date=None if i % 5 == 0 else today + timedelta(i % 7 - 3),
            )
            for i in range(60)
        )
    assert outstanding(cast.alpha, today) == figures(8, 8, 32, 11, 16)

    with tenant_context(cast.alpha):
        items = DocumentRequestItem.objects.filter(request__client=acme)
        items.filter(status=Item.OPEN).update(due_date=today - timedelta(10))
        items.filter(status=Item.RECEIVED).update(status=Item.ACCEPTED)
        # Items moved to another request, a title changed (nothing to count).
        DocumentRequestItem.objects.filter(request=requests[0]).update(
            request=requests[1]
        )
        DocumentRequestItem.objects.update(title="Renamed")
        DocumentRequest.objects.filter(pk__in=[r.pk for r in requests[4:]]).update(
            status="completed"
        )
        DocumentRequestItem.objects.filter(
            request=requests[2], position__lt=20
        ).delete()
    assert outstanding(cast.alpha, today) == figures(3, 3, 14, 8, 3)
    with tenant_context(cast.alpha):
        DocumentRequest.objects.filter(status="completed").update(status="open")
    assert outstanding(cast.alpha, today) == figures(7, 7, 30, 15, 7)


def test_a_request_without_dated_items_owed_is_never_overdue(cast, jane, today):
    doc_request = _create(jane, cast.sam, None, today - timedelta(1))
    undated, late = _items(doc_request)
    upload_document(jane, request_item=late)

    assert outstanding(cast.alpha, today) == figures(1, 0, 1, 0, 1)
    with tenant_context(cast.alpha):
        assert set(
            OutstandingDay.objects.filter(request_count=1).values_list("day", flat=True)
        ) == {NO_DUE_DAY}


def test_a_firms_deletion_takes_its_counts_and_leaves_another_firms(cast, jane, today):
    _create(jane, cast.sam, today - timedelta(1), None)
    _create(make_client(cast.beta, "Beta's client"), cast.oscar, today - timedelta(1))

    with tenant_context(cast.alpha):
        assert not OutstandingDay.objects.filter(organization=cast.beta).exists()
        firm_delete(organization=cast.alpha)
        assert not OutstandingDay.objects.exists()
        assert not OutstandingPart.objects.exists()
        assert not DocumentRequestItem.objects.exists()
    assert outstanding(cast.beta, today) == figures(1, 1, 1, 1, 0)


def test_the_firms_figures_read_its_days_by_their_key(cast, jane, today):
    _create(jane, cast.sam, today, None)
    with tenant_context(cast.alpha):
        sql, params = (
            OutstandingDay.objects.filter(organization=cast.alpha).values("day").query
        ).sql_with_params()
        nodes = explain(sql, params, organization=cast.alpha, seqscan=False)
    assert "documents_outstandingday_pkey" in index_scans(
        nodes, tables=["documents_outstandingday"]
    )


@pytest.mark.django_db(transaction=True)
def test_two_writers_to_one_request_never_count_from_a_stale_part(cast, jane, today):
    """The first holds the request's lock with an item received; the second
    (another item received, written without the service's lock) waits for it
    in the trigger, then counts from what the first committed: nothing is lost
    or counted twice, and the kept parts are right for the next write."""
    doc_request = _create(jane, cast.sam, today - timedelta(1), today - timedelta(2))
    first_item, second_item = _items(doc_request)
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                DocumentRequestItem.objects.filter(pk=first_item.pk).update(
                    status=Item.RECEIVED
                )
                holding.set()
                release.wait(10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    def second():
        try:
            holding.wait(10)
            with tenant_context(cast.alpha):
                DocumentRequestItem.objects.filter(pk=second_item.pk).update(
                    status=Item.RECEIVED
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(10)
    waited = wait_for_lock_waiters(statement="UPDATE")
    release.set()
    for thread in threads:
        thread.join(20)

    assert waited and errors == []
    assert outstanding(cast.alpha, today) == figures(1, 0, 0, 0, 2)
    with tenant_context(cast.alpha):
        DocumentRequestItem.objects.filter(pk=first_item.pk).update(status=Item.OPEN)
    assert outstanding(cast.alpha, today) == figures(1, 1, 1, 1, 1)
