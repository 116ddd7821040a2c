"""The thin API client against the stand-in: minorversion on every call,
requestid on writes (a retried write is one write), 429 and 5xx tried again
honouring Retry-After, bounded; paged queries; SyncToken conflicts; CDC;
reports read as Decimal without Intuit's subtotals."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.client import (
    QuickBooksClient,
    QuickBooksError,
    StaleObject,
    report_rows,
    request_id,
)
from tests.integrations.quickbooks.conftest import FIRM_REALM

API = f"/v3/company/{FIRM_REALM}/"


@pytest.fixture
def api(alpha_books, intuit_standin):
    intuit_standin.requests.clear()
    with tenant_context(alpha_books.organization):
        yield QuickBooksClient(alpha_books)


def test_every_call_names_minor_version_75_and_every_write_a_requestid(
    api, intuit_standin
):
    made = api.create(
        "Customer", {"DisplayName": "Jane Doe"}, request_id=request_id("c", 1)
    )
    api.read("Customer", made["Id"])
    list(api.query("select * from Customer"))

    calls = intuit_standin.requests_to(API)
    assert [c.query["minorversion"] for c in calls] == ["75", "75", "75"]
    assert calls[0].request_id == request_id("c", 1)
    assert [c.request_id for c in calls[1:]] == [None, None]
    with pytest.raises(ValueError, match="requestid"):
        api.request("POST", "customer", json={})


def test_the_same_business_action_is_one_write_at_intuit(api, firm_company):
    key = request_id("invoice", "4f1c", "create")

    first = api.create("Customer", {"DisplayName": "Once"}, request_id=key)
    second = api.create("Customer", {"DisplayName": "Once"}, request_id=key)

    assert first["Id"] == second["Id"]
    assert len(firm_company.entities("Customer")) == 1
    assert request_id("invoice", "4f1c", "create") == key  # deterministic


def test_a_429_is_waited_out_as_retry_after_says_then_succeeds(api, intuit_standin):
    intuit_standin.fail_next(API + "query", status=429, retry_after="1")

    began = time.monotonic()
    found = list(api.query("select * from Customer"))
    waited = time.monotonic() - began

    assert found == []
    assert [r.status for r in intuit_standin.requests_to(API + "query")] == [429, 200]
    assert waited >= 1.0


def test_a_5xx_is_tried_again_with_the_same_requestid(
    api, intuit_standin, firm_company
):
    intuit_standin.fail_next(API + "customer", status=503, times=2)

    made = api.create(
        "Customer", {"DisplayName": "Retried"}, request_id=request_id("c", "r")
    )

    calls = intuit_standin.requests_to(API + "customer")
    assert [c.status for c in calls] == [503, 503, 200]
    assert {c.request_id for c in calls} == {request_id("c", "r")}
    assert list(firm_company.entities("Customer")) == [made["Id"]]


def test_retries_are_bounded(api, intuit_standin, settings):
    settings.QUICKBOOKS_MAX_ATTEMPTS = 3
    intuit_standin.fail_next(API + "query", status=500, times=10)

    with pytest.raises(QuickBooksError, match="500") as caught:
        list(api.query("select * from Customer"))

    assert caught.value.status == 500
    assert len(intuit_standin.requests_to(API + "query")) == 3


def test_a_timeout_is_tried_again(api, intuit_standin, settings):
    settings.QUICKBOOKS_TIMEOUT_SECONDS = 0.3
    intuit_standin.fail_next(API + "query", status=None, delay=0.6)

    assert list(api.query("select * from Customer")) == []
    assert len(intuit_standin.requests_to(API + "query")) == 2


def test_a_query_pages_until_a_short_page(api, firm_company, intuit_standin):
    for n in range(5):
        firm_company.add("Customer", DisplayName=f"Customer {n}")

    found = list(api.query("select * from Customer", page_size=2))

    assert [c["DisplayName"] for c in found] == [f"Customer {n}" for n in range(5)]
    pages = [r.query["query"] for r in intuit_standin.requests_to(API + "query")]
    assert pages == [
        "select * from Customer STARTPOSITION 1 MAXRESULTS 2",
        "select * from Customer STARTPOSITION 3 MAXRESULTS 2",
        "select * from Customer STARTPOSITION 5 MAXRESULTS 2",
    ]


def test_an_update_with_an_old_sync_token_is_refused_never_applied(api, firm_company):
    ours = firm_company.add("Customer", DisplayName="Jane Doe")
    read = api.read("Customer", ours["Id"])
    firm_company.touch("Customer", ours["Id"], DisplayName="Jane Q. Doe")  # in QBO

    with pytest.raises(StaleObject) as caught:
        api.update(
            "Customer",
            {"Id": read["Id"], "SyncToken": read["SyncToken"], "DisplayName": "J"},
            request_id=request_id("c", ours["Id"], "rename", 1),
        )

    assert caught.value.code == "5010"
    assert firm_company.entities("Customer")[ours["Id"]]["DisplayName"] == "Jane Q. Doe"
    fresh = api.read("Customer", ours["Id"])
    updated = api.update(
        "Customer",
        {"Id": fresh["Id"], "SyncToken": fresh["SyncToken"], "DisplayName": "J"},
        request_id=request_id("c", ours["Id"], "rename", 2),
    )
    assert (updated["DisplayName"], updated["SyncToken"]) == ("J", "2")


def test_cdc_answers_what_changed_since(api, firm_company):
    firm_company.add("Customer", DisplayName="Old")
    time.sleep(1.1)  # the stand-in's times, and changedSince, are to the second
    since = timezone.now()
    new = firm_company.add("Customer", DisplayName="New")
    firm_company.add("Invoice", TotalAmt=Decimal("10.00"))

    changed = api.cdc(["Customer", "Invoice"], since)

    assert [c["Id"] for c in changed["Customer"]] == [new["Id"]]
    assert len(changed["Invoice"]) == 1
    with pytest.raises(QuickBooksError, match="30 days"):
        api.cdc(["Customer"], timezone.now() - timedelta(days=31))


def test_a_trial_balance_is_read_as_decimal_without_intuits_totals(
    api, firm_company, intuit_standin
):
    firm_company.reports["TrialBalance"] = intuit_standin.trial_balance_report(
        [
            ("35", "Checking", "1201.10", ""),
            ("33", "Accounts Receivable", "0.20", ""),
            ("89", "Sales", "", "1201.30"),
        ]
    )

    rows, raw = api.trial_balance(start="2026-01-01", end="2026-12-31")

    assert [(r.account_id, r.label) for r in rows] == [
        ("35", "Checking"),
        ("33", "Accounts Receivable"),
        ("89", "Sales"),
    ]
    assert [r.amounts for r in rows] == [
        [Decimal("1201.10"), None],
        [Decimal("0.20"), None],
        [None, Decimal("1201.30")],
    ]
    debit = sum(r.amounts[0] or 0 for r in rows)
    credit = sum(r.amounts[1] or 0 for r in rows)
    assert debit == credit == Decimal("1201.30")
    assert raw["Header"]["ReportName"] == "TrialBalance"
    (call,) = intuit_standin.requests_to(API + "reports/TrialBalance")
    assert (call.query["start_date"], call.query["end_date"]) == (
        "2026-01-01",
        "2026-12-31",
    )


def test_report_rows_walk_sections_and_skip_summaries():
    report = {
        "Rows": {
            "Row": [
                {
                    "type": "Section",
                    "Header": {"ColData": [{"value": "Income"}]},
                    "Rows": {
                        "Row": [
                            {
                                "type": "Data",
                                "ColData": [
                                    {"value": "Fees", "id": "1"},
                                    {"value": "1,000.50"},
                                ],
                            },
                            {
                                "type": "Data",
                                "ColData": [
                                    {"value": "Other", "id": "2"},
                                    {"value": ""},
                                ],
                            },
                        ]
                    },
                    "Summary": {
                        "ColData": [{"value": "Total Income"}, {"value": "1000.50"}]
                    },
                }
            ]
        }
    }

    rows = report_rows(report)

    assert [(r.label, r.amounts, r.sections) for r in rows] == [
        ("Fees", [Decimal("1000.50")], ["Income"]),
        ("Other", [None], ["Income"]),
    ]
