"""The workflow list's query reads its indexes under row-level security.

The real query of the page (through the test client and the middleware) is
EXPLAINed in the firm's context as the application role, with sequential scans
off: the open workflows by due date walk `execution_org_open_due`, a deeper page
starts inside it (the keyset cursor is an index condition: the stored due_sort
column and a row comparison are leakproof), and a status filter reads a status
index.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import statistics_refresh
from clients.models import Client
from tests.factories import explain, index_scans
from workflows.models import WorkflowExecution

pytestmark = pytest.mark.django_db

LIST = "/o/alpha/workflows/"
STATUSES = ("active", "completed", "paused", "completed")


@pytest.fixture
def busy_alpha(cast, make_template):
    template = make_template(cast.alpha, "Close", [("Reconcile", {})])
    with tenant_context(cast.alpha):
        clients = Client.objects.bulk_create(
            Client(
                organization=cast.alpha,
                display_name=f"Client {i}",
                sort_name=f"client {i:03d}",
                client_code=f"C{i:03d}",
            )
            for i in range(300)
        )
        WorkflowExecution.objects.bulk_create(
            WorkflowExecution(
                organization=cast.alpha,
                template=template,
                client=clients[i % 300],
                name=f"Close {i}",
                start_date=date(2027, 1, 1),
                due_date=date(2027, 1, 1) + timedelta(days=i % 365),
                status=STATUSES[i % 4],
            )
            for i in range(3000)
        )
    return cast


def _list_query(http, params: dict) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(LIST, params)
    assert response.status_code == 200
    (sql,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT")
        and 'FROM "workflows_workflowexecution"' in q["sql"]
    ]
    return sql, response


def _index_scans(org, sql: str) -> dict[str, dict]:
    # The app role owns no table: the owner's app_analyze() does it.
    statistics_refresh(
        [
            "workflows_workflowexecution",
            "clients_client",
            "workflows_workflowtemplate",
        ]
    )
    nodes = explain(sql, organization=org, seqscan=False)
    return index_scans(nodes, tables=["workflows_workflowexecution"])


def test_the_open_workflows_walk_the_open_by_due_index(busy_alpha, login_as):
    sql, _ = _list_query(login_as(busy_alpha.sam), {})

    scans = _index_scans(busy_alpha.alpha, sql)

    assert "organization_id" in scans["execution_org_open_due"]["Index Cond"]


def test_a_deeper_page_starts_inside_the_index(busy_alpha, login_as):
    http = login_as(busy_alpha.sam)
    _, first = _list_query(http, {})

    sql, _ = _list_query(http, {"cursor": first.context["page"].next_cursor})

    scan = _index_scans(busy_alpha.alpha, sql)["execution_org_open_due"]
    assert "due_sort" in scan["Index Cond"]


def test_one_status_walks_the_status_index(busy_alpha, login_as):
    sql, _ = _list_query(login_as(busy_alpha.sam), {"status": "completed"})

    scans = _index_scans(busy_alpha.alpha, sql)

    # The planner may also take (org, status, due_date) and sort the slice;
    # either way the status is an index condition.
    assert any(
        "status" in scan.get("Index Cond", "")
        for name, scan in scans.items()
        if name.startswith("execution_org_status")
    )
