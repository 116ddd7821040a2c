"""A client's books pulled from its QuickBooks company into its ledger, through
the stand-in: the chart by QuickBooks Id, a trial balance per month-end whose
statements tie to QuickBooks' report, later pulls reading only the months
changed, a 5xx resumed from the cursor, a 429 waited out, a report that does
not balance refused for its month only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.ledger import LedgerCursor
from integrations.quickbooks.models import LedgerTransaction, SyncRun
from reports.models import LedgerAccount, TrialBalance, TrialBalanceLine, month_end
from reports.statements import add_months, ledger_dates, statement_build
from tests.integrations.quickbooks.conftest import (
    JANE_REALM,
    client_books,
    month_day,
    pull,
)
from tests.standins.intuit import IntuitStandin

REPORTS = f"/v3/company/{JANE_REALM}/reports/TrialBalance"


def month(today: date, back: int) -> date:
    return add_months(month_end(today), -back)


def report_ends(standin: IntuitStandin) -> list[str]:
    return [r.query["end_date"] for r in standin.requests_to(REPORTS)]


def snapshots(client) -> dict[date, TrialBalance]:
    with tenant_context(client.organization):
        return {tb.period_end: tb for tb in TrialBalance.objects.filter(client=client)}


def net_income(client, end: date) -> Decimal:
    """The month's net income on the profit and loss statement."""
    with tenant_context(client.organization):
        statement = statement_build(
            kind="profit_and_loss",
            snapshots=ledger_dates(client),
            end=end,
            period="month",
            compare="none",
            start_month=1,
        )
    return statement.rows[-1].amounts[0]


def test_a_first_pull_builds_the_chart_and_every_month_end_that_ties_to_quickbooks(
    cast, jane, jane_books, jane_company, intuit_standin
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)

    run = pull(jane_books)

    assert run.kind == SyncRun.Kind.FULL
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    # 24 full months and the current one: the first 4 are before the books began.
    window = [month(today, back) for back in range(24, -1, -1)]
    assert report_ends(intuit_standin) == [
        *(m.isoformat() for m in window[:-1]),
        today.isoformat(),  # the current month to date
    ]
    assert run.counts["TrialBalance"] == {"empty": 4, "recorded": 21}
    assert run.counts["Account"] == {"read": 11, "saved": 11}
    # Company info, the chart (one page), 25 reports.
    assert run.requests_made == 27
    assert run.cursor == f"ledger:{LedgerCursor.parse(run.cursor).moment.isoformat()}"
    with tenant_context(cast.alpha):
        chart = {a.external_id: a for a in LedgerAccount.objects.filter(client=jane)}
        assert chart[accounts["old"]["Id"]].is_active is False
        assert chart[accounts["sales"]["Id"]].account_type == "Income"
        assert chart[accounts["depreciated"]["Id"]].account_subtype == (
            "AccumulatedDepreciation"
        )
    found = snapshots(jane)
    assert sorted(found) == window[4:]
    for tb in found.values():
        total = tb.raw["Rows"]["Row"][-1]["Summary"]["ColData"]
        # Each snapshot ties to the TOTAL of the report it was made from.
        assert (str(tb.total_debit), str(tb.total_credit)) == (
            total[1]["value"],
            total[2]["value"],
        )
        assert tb.source == "qbo"
    # Sales 1,000, rent 300 and (the last six full months) depreciation 100.
    assert net_income(jane, month(today, 3)) == Decimal("600.00")
    assert net_income(jane, month(today, 10)) == Decimal("700.00")
    assert net_income(jane, month(today, 0)) == Decimal("500.00")
    with tenant_context(cast.alpha):
        sheet = statement_build(
            kind="balance_sheet",
            snapshots=ledger_dates(jane),
            end=month(today, 0),
            period="month",
            compare="prior_year",
            start_month=1,
        )
    assert sheet.checks == [True, True]  # assets = liabilities + equity, both years


def test_a_later_pull_reads_the_months_changed_and_a_renamed_account_keeps_its_lines(
    cast, jane, jane_books, jane_company, intuit_standin
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    pull(jane_books)
    with tenant_context(cast.alpha):
        rent = LedgerAccount.objects.get(
            client=jane, external_id=accounts["rent"]["Id"]
        )
        lines = TrialBalanceLine.objects.filter(account=rent).count()
    jane_company.touch(
        "Account",
        accounts["rent"]["Id"],
        Name="Office rent",
        FullyQualifiedName="Office rent",
    )
    jane_company.post(
        month_day(today, 2, 25),
        (accounts["rent"], "50", ""),
        (accounts["checking"], "", "50"),
    )
    intuit_standin.requests.clear()

    run = pull(jane_books)

    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    # The month of the change and every month-end after it, nothing before.
    assert report_ends(intuit_standin) == [
        month(today, 2).isoformat(),
        month(today, 1).isoformat(),
        today.isoformat(),
    ]
    assert run.counts["Change"] == {"read": 1}
    with tenant_context(cast.alpha):
        renamed = LedgerAccount.objects.get(pk=rent.pk)
        assert renamed.name == "Office rent"
        assert LedgerAccount.objects.filter(client=jane).count() == 11
        # Its lines, old and new, are still on the one account.
        assert TrialBalanceLine.objects.filter(account=rent).count() == lines
    assert net_income(jane, month(today, 2)) == Decimal("550.00")


def rent_balance(client, rent_id: str, period_end: date) -> Decimal:
    """The rent account's debit in the snapshot of `period_end`."""
    with tenant_context(client.organization):
        line = TrialBalanceLine.objects.get(
            trial_balance__client=client,
            trial_balance__period_end=period_end,
            account__external_id=rent_id,
        )
    return line.debit - line.credit


def test_a_transaction_moved_to_a_later_month_is_taken_out_of_its_old_month(
    cast, jane, jane_books, jane_company, intuit_standin
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    rent_id = accounts["rent"]["Id"]
    pull(jane_books)
    entry = jane_company.post(
        month_day(today, 2, 10),
        (accounts["rent"], "50", ""),
        (accounts["checking"], "", "50"),
    )
    pull(jane_books)  # sees the entry in the month two back
    with_entry = rent_balance(jane, rent_id, month(today, 2))
    jane_company.touch("JournalEntry", entry["Id"], TxnDate=month_day(today, 1, 10))
    intuit_standin.requests.clear()

    run = pull(jane_books)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    # From the month it left (its old date), not only the month it went to.
    assert report_ends(intuit_standin) == [
        month(today, 2).isoformat(),
        month(today, 1).isoformat(),
        today.isoformat(),
    ]
    assert rent_balance(jane, rent_id, month(today, 2)) == with_entry - 50
    assert net_income(jane, month(today, 2)) == Decimal("600.00")
    assert net_income(jane, month(today, 1)) == Decimal("550.00")
    with tenant_context(cast.alpha):
        (kept,) = LedgerTransaction.objects.filter(connection=jane_books)
    assert (kept.entity, kept.qbo_id, kept.period_end) == (
        "JournalEntry",
        entry["Id"],
        month(today, 1),
    )


def test_a_transaction_moved_to_an_earlier_month_and_back_reads_from_the_earliest(
    cast, jane, jane_books, jane_company, intuit_standin
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    pull(jane_books)
    entry = jane_company.post(
        month_day(today, 1, 10),
        (accounts["rent"], "50", ""),
        (accounts["checking"], "", "50"),
    )
    pull(jane_books)
    jane_company.touch("JournalEntry", entry["Id"], TxnDate=month_day(today, 3, 10))
    intuit_standin.requests.clear()
    earlier = pull(jane_books)
    earlier_ends = report_ends(intuit_standin)
    jane_company.touch("JournalEntry", entry["Id"], TxnDate=month_day(today, 1, 10))
    intuit_standin.requests.clear()

    back = pull(jane_books)

    assert earlier.status == back.status == SyncRun.Status.SUCCEEDED
    assert earlier_ends[0] == month(today, 3).isoformat()
    # Moved back: from the month it was in (three back), its new date is later.
    assert report_ends(intuit_standin)[0] == month(today, 3).isoformat()
    assert net_income(jane, month(today, 3)) == Decimal("600.00")
    assert net_income(jane, month(today, 1)) == Decimal("550.00")


def test_a_deleted_transaction_seen_before_is_read_from_its_month_only(
    cast, jane, jane_books, jane_company, intuit_standin
):
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    pull(jane_books)
    entry = jane_company.post(
        month_day(today, 2, 10),
        (accounts["rent"], "50", ""),
        (accounts["checking"], "", "50"),
    )
    pull(jane_books)
    jane_company.delete("JournalEntry", entry["Id"])
    intuit_standin.requests.clear()

    run = pull(jane_books)

    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert report_ends(intuit_standin) == [
        month(today, 2).isoformat(),
        month(today, 1).isoformat(),
        today.isoformat(),
    ]
    assert net_income(jane, month(today, 2)) == Decimal("600.00")
    with tenant_context(cast.alpha):
        assert not LedgerTransaction.objects.filter(connection=jane_books).exists()


def test_a_whole_read_keeps_the_months_of_the_changes_it_did_not_ask_cdc_about(
    cast, jane, jane_books, jane_company, intuit_standin
):
    """A move seen only by a whole read (Pull now with full) is kept too: the
    next move is re-read from where the transaction really was."""
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    pull(jane_books)
    entry = jane_company.post(
        month_day(today, 1, 10),
        (accounts["rent"], "50", ""),
        (accounts["checking"], "", "50"),
    )
    pull(jane_books)
    jane_company.touch("JournalEntry", entry["Id"], TxnDate=month_day(today, 4, 10))
    whole = pull(jane_books, full=True)
    jane_company.touch("JournalEntry", entry["Id"], TxnDate=month_day(today, 1, 10))
    intuit_standin.requests.clear()

    run = pull(jane_books)

    assert whole.kind == SyncRun.Kind.FULL
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert report_ends(intuit_standin)[0] == month(today, 4).isoformat()
    assert net_income(jane, month(today, 4)) == Decimal("600.00")


def test_a_pull_stopped_by_a_5xx_resumes_at_its_month_without_duplicates(
    cast, jane, jane_books, jane_company, intuit_standin, fast_retries, settings
):
    settings.QUICKBOOKS_LEDGER_MONTHS = 5
    today = firm_today(cast.alpha)
    client_books(jane_company, today)
    intuit_standin.fail_next(REPORTS, status=503, times=5, after=3)

    stopped = pull(jane_books)

    assert stopped.status == SyncRun.Status.FAILED
    assert "503" in stopped.errors[-1]["message"]
    assert stopped.counts["TrialBalance"] == {"recorded": 3}
    assert LedgerCursor.parse(stopped.cursor).resume == month(today, 2)
    assert sorted(snapshots(jane)) == [month(today, b) for b in (5, 4, 3)]
    intuit_standin.requests.clear()

    resumed = pull(jane_books)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.errors
    assert report_ends(intuit_standin) == [
        month(today, 2).isoformat(),
        month(today, 1).isoformat(),
        today.isoformat(),
    ]
    assert sorted(snapshots(jane)) == [month(today, b) for b in range(5, -1, -1)]
    assert LedgerCursor.parse(resumed.cursor).resume is None


def test_a_429_is_waited_out_and_the_pull_goes_on(
    cast, jane, jane_books, jane_company, intuit_standin, settings
):
    settings.QUICKBOOKS_LEDGER_MONTHS = 1
    today = firm_today(cast.alpha)
    client_books(jane_company, today)
    intuit_standin.fail_next(REPORTS, status=429, retry_after="0")

    run = pull(jane_books)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert [r.status for r in intuit_standin.requests_to(REPORTS)] == [429, 200, 200]
    assert sorted(snapshots(jane)) == [month(today, 1), month(today, 0)]


def test_a_report_that_does_not_balance_records_nothing_for_its_month(
    cast, jane, jane_books, jane_company, intuit_standin, settings
):
    settings.QUICKBOOKS_LEDGER_MONTHS = 2
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    bad = month(today, 1)
    jane_company.reports[f"TrialBalance:{bad.isoformat()}"] = (
        IntuitStandin.trial_balance_report(
            [
                (accounts["checking"]["Id"], "Checking", "1200.00", ""),
                (accounts["capital"]["Id"], "Owner's capital", "", "1000.00"),
            ],
            end=bad.isoformat(),
        )
    )

    run = pull(jane_books)

    assert run.status == SyncRun.Status.PARTIAL
    assert sorted(snapshots(jane)) == [month(today, 2), month(today, 0)]
    [error] = run.errors
    assert error["id"] == bad.isoformat()
    assert error["message"].startswith(f"{bad:%B %Y}: The trial balance does not")
    assert "difference of 200.00" in error["message"]
    assert LedgerCursor.parse(run.cursor).retry == (bad,)
    # Corrected in QuickBooks: the next pull reads that month again.
    del jane_company.reports[f"TrialBalance:{bad.isoformat()}"]
    intuit_standin.requests.clear()

    again = pull(jane_books)

    assert again.status == SyncRun.Status.SUCCEEDED, again.errors
    assert report_ends(intuit_standin) == [bad.isoformat(), today.isoformat()]
    assert bad in snapshots(jane)


def test_an_account_of_a_type_the_ledger_lacks_refuses_the_months_it_has_a_balance(
    cast, jane, jane_books, jane_company, settings
):
    settings.QUICKBOOKS_LEDGER_MONTHS = 1
    today = firm_today(cast.alpha)
    accounts = client_books(jane_company, today)
    odd = jane_company.add_account("Suspense", "Mystery Type")
    jane_company.post(
        month_day(today, 0, 1), (odd, "5", ""), (accounts["checking"], "", "5")
    )

    run = pull(jane_books)

    assert run.counts["Account"]["unknown type"] == 1
    assert [e["id"] for e in run.errors] == [month(today, 0).isoformat()]
    assert "“Suspense” has the type “Mystery Type”" in run.errors[0]["message"]
    assert sorted(snapshots(jane)) == [month(today, 1)]


def test_a_fiscal_year_that_differs_from_the_clients_stops_the_pull(
    cast, jane, jane_books, jane_company
):
    client_books(jane_company, firm_today(cast.alpha))
    jane_company.fiscal_year_start_month = 4

    run = pull(jane_books)

    assert run.status == SyncRun.Status.FAILED
    assert "starts this company's fiscal year in April" in run.errors[0]["message"]
    assert snapshots(jane) == {}
