"""The invoice list's queries read the indexes built for them, under row-level
security: each page a range of one index (so a page costs the same at any depth
of a 100,000-invoice firm), and the outstanding totals from the open invoices'
partial index alone. The real queries of the page (through the test client and
the middleware), EXPLAINed in the firm's context as the application role with
sequential scans priced out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisoros.tenancy.dbroles import statistics_refresh
from tests.factories import explain, index_scans, make_client, make_invoices

URL = "/o/alpha/billing/invoices/"


@pytest.fixture
def many(cast, jane):
    """Alpha with 3,000 invoices across statuses, mostly paid (Beta with some,
    for the policy), and the table's statistics as a real firm's would be."""
    today = timezone.localdate()
    make_invoices(jane, 2700, status="paid", issue_date=today - timedelta(days=90))
    make_invoices(jane, 200, first_number=2701, due_date=today - timedelta(days=3))
    make_invoices(jane, 100, first_number=2901, status="void")
    make_invoices(make_client(cast.beta, "Beta Co"), 500)
    # The app role owns no table: the owner's app_analyze() does it.
    statistics_refresh(["billing_invoice"])
    return cast


def _invoice_queries(http, params: dict) -> dict[str, str]:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(URL, params)
    assert response.status_code == 200
    found = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "billing_invoice"' in q["sql"]
    ]
    # The firm's outstanding totals come from its due days (billing_moneyday,
    # kept by the database), not from the invoices: the page is the one read.
    (page,) = found
    (totals,) = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "billing_moneyday"' in q["sql"]
    ]
    assert "LIMIT 51" in page and "GROUP BY" in totals
    return {"page": page, "totals": totals}


def _scan(cast, sql: str, index: str) -> dict:
    nodes = explain(sql, organization=cast.alpha, seqscan=False)
    scans = index_scans(nodes, tables=("billing_invoice",))
    assert index in scans, f"{index} not used; plan used {sorted(scans)}"
    return scans[index]


@pytest.mark.parametrize(
    ("params", "index", "range_on"),
    [
        ({}, "invoice_org_created", "organization_id"),
        ({"status": "paid"}, "invoice_org_status_new", "status"),
        ({"status": "overdue"}, "invoice_open_due", "due_date"),
        ({"issued_from": "2026-01-01"}, "invoice_org_issued", "issue_date"),
        ({"q": "INV-00042"}, "invoice_number_unique_per_firm", "number"),
    ],
)
def test_each_page_reads_its_index(many, login_as, params, index, range_on):
    http = login_as(many.alice)

    scan = _scan(many, _invoice_queries(http, params)["page"], index)

    assert range_on in scan["Index Cond"]


def test_a_deep_overdue_page_starts_inside_the_index(many, login_as):
    http = login_as(many.alice)
    first = http.get(URL, {"status": "overdue"})

    sql = _invoice_queries(http, {"status": "overdue", "cursor": _cursor(first)})
    scan = _scan(many, sql["page"], "invoice_open_due")

    # The cursor is a range start in the index, not a filter on every row.
    assert "ROW(due_date, id) >" in scan["Index Cond"].replace('"', "")


def _cursor(response) -> str:
    return response.context["page"].next_cursor


def test_the_totals_read_a_few_hundred_days_not_the_invoices(many, login_as):
    """3,000 invoices: the outstanding totals group the firm's due days (one
    row per partner, currency and due date) through an index."""
    http = login_as(many.alice)

    sql = _invoice_queries(http, {})["totals"]
    nodes = explain(sql, organization=many.alpha, seqscan=False)

    # Through an index of the firm's days (its unique key or the firm's own
    # index: the planner picks either, by the table's statistics).
    assert index_scans(nodes, tables=("billing_moneyday",))
    assert all(node.get("Relation Name") != "billing_invoice" for node in nodes)
