"""The workflow pages' queries read the indexes of 0003_pages under row-level security.

The real queries of each page (through the test client and the middleware) are
EXPLAINed in the firm's context as the application role, with sequential scans
switched off, on a firm seeded by the benchmark's own seeder: each reads the
index it was built for, and none scans the task table. (The choices that only
hold at scale, the column pages' and the workload's, are shown by the bench's
`workflow_query_plans` measure on bench-100k.)
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import statistics_refresh
from bench.clients_seed import seed_clients
from bench.workflows_seed import seed_tasks
from clients.models import Client
from tests.factories import explain, index_scans
from tests.workflows.pages import make_tasks
from workflows.models import Notification, Task

pytestmark = pytest.mark.django_db

TABLES = ("workflows_task", "workflows_notification")


@pytest.fixture
def busy_alpha(cast):
    """Alpha with 200 clients and 4,000 tasks (Beta with a few, for the policy)."""
    for org, clients, tasks in ((cast.beta, 20, 200), (cast.alpha, 200, 3000)):
        with tenant_context(org):
            seed_clients(organization=org, clients=clients)
            seed_tasks(organization=org, tasks=tasks)
    # A busy person: a page of 50 out of 1,000 ready tasks, as in a big firm.
    make_tasks(cast.alpha, 1000, prefix="Alice's", assignee=cast.alice)
    with tenant_context(cast.alpha):
        Notification.objects.bulk_create(
            Notification(
                organization=cast.alpha,
                user=cast.alice if i % 20 == 0 else cast.sam,
                kind="assigned",
                title=f"N{i}",
            )
            for i in range(4000)
        )
        # The app role owns no table: the owner's app_analyze() does it.
        statistics_refresh(["workflows_notification", "workflows_task"])
    return cast


def _queries(http, url: str, table: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries if f'"{table}"' in q["sql"]]


def _indexes(org, sql: str) -> set[str]:
    """The indexes the plan reads (no sequential scan of the checked tables)."""
    nodes = explain(sql, organization=org, seqscan=False)
    return set(index_scans(nodes, tables=TABLES))


def test_my_work_reads_the_persons_due_order_index(busy_alpha, login_as):
    cast = busy_alpha
    page, summary = _queries(login_as(cast.alice), "/o/alpha/work/", "workflows_task")

    assert "task_my_work" in _indexes(cast.alpha, page)
    # The capped counts: bounded index ranges (which ones depends on the sizes).
    assert _indexes(cast.alpha, summary)


def test_the_boards_columns_read_bounded_index_ranges(busy_alpha, login_as):
    cast = busy_alpha
    cards, counts = _queries(
        login_as(cast.alice), "/o/alpha/work/board/", "workflows_task"
    )

    assert {"task_board_open", "task_recently_completed"} <= _indexes(cast.alpha, cards)
    assert "task_recently_completed" in _indexes(cast.alpha, counts)


def test_the_timeline_reads_the_clients_completed_tasks_index(busy_alpha, login_as):
    cast = busy_alpha
    with tenant_context(cast.alpha):
        client_id = (
            Task.objects.filter(organization=cast.alpha, status="completed")
            .values_list("client_id", flat=True)
            .first()
        )
        client = Client.objects.get(pk=client_id)
    queries = _queries(
        login_as(cast.alice),
        f"/o/alpha/clients/{client.uuid}/?tab=timeline",
        "workflows_task",
    )
    (union,) = [q for q in queries if "UNION" in q]

    assert "task_client_completed" in _indexes(cast.alpha, union)


def test_the_notifications_page_reads_the_persons_newest_first_index(
    busy_alpha, login_as
):
    cast = busy_alpha
    page, _count = _queries(
        login_as(cast.alice), "/o/alpha/work/notifications/", "workflows_notification"
    )

    assert "notification_user_newest" in _indexes(cast.alpha, page)


def test_the_dashboards_due_this_week_reads_the_open_due_index(busy_alpha, login_as):
    cast = busy_alpha
    queries = _queries(login_as(cast.alice), "/o/alpha/", "workflows_task")
    (due,) = [q for q in queries if "LIMIT" in q and '"due_date" >=' in q]

    assert "task_open_due" in _indexes(cast.alpha, due)
