"""seed_demo's ledger for Demo CPA: one business client with 24 monthly trial
balances imported through the CSV path, statements with real figures that tie,
and a second run adds nothing."""

from __future__ import annotations

from datetime import date
from io import StringIO

from django.core.management import call_command

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from reports.demo import demo_trial_balances
from reports.models import (
    ImportStatus,
    LedgerAccount,
    OutputStatus,
    StatementOutput,
    TrialBalance,
    TrialBalanceImport,
)
from reports.statements import (
    PERIODS,
    add_months,
    client_fiscal_start_month,
    ledger_dates,
    statement_build,
)


def test_the_demo_firm_has_a_ledger_of_24_months_made_through_the_csv_import(
    db, settings, tmp_path, client
):
    settings.DEBUG = True  # seed_demo runs only in DEBUG
    settings.MEDIA_ROOT = str(tmp_path)
    http = client
    out = StringIO()
    call_command("seed_demo", stdout=out)
    demo = Organization.objects.get(slug="demo")
    with tenant_context(demo):
        call_command("seed_demo", stdout=StringIO())

        snapshots = TrialBalance.objects.filter(source="csv")
        assert snapshots.count() == 24
        # The second client's 30 months, written as a QuickBooks pull writes them.
        pulled = TrialBalance.objects.filter(source="qbo")
        assert pulled.count() == 30
        assert len({s.client_id for s in pulled}) == 1
        assert pulled.first().raw["Header"]["ReportName"] == "TrialBalance"
        assert LedgerAccount.objects.filter(
            client_id=pulled.first().client_id, external_id="35"
        ).exists()
        assert (
            TrialBalanceImport.objects.filter(status=ImportStatus.IMPORTED).count()
            == 24
        )
        assert "Demo ledger: 24 monthly trial balances" in out.getvalue()
        client = snapshots.first().client
        last = add_months(firm_today(demo), -1)
        assert max(s.period_end for s in snapshots) == last
        found = ledger_dates(client)
        start_month = client_fiscal_start_month(client)
        for kind in ("profit_and_loss", "balance_sheet", "cash_flow", "trial_balance"):
            report = statement_build(
                kind=kind,
                snapshots=found,
                end=last,
                period="month",
                compare="both",
                start_month=start_month,
            )
            assert report.has_data, kind
            assert all(check in (True, None) for check in report.checks), kind
        pnl = statement_build(
            kind="profit_and_loss",
            snapshots=found,
            end=last,
            period="year",
            compare="none",
            start_month=start_month,
        )
        income = next(r for r in pnl.rows if r.label == "Total income").amounts[0]
        assert income > 400_000  # a real business's year

        services = pulled.first().client
        found = ledger_dates(services)
        for kind in ("profit_and_loss", "balance_sheet", "cash_flow", "trial_balance"):
            report = statement_build(
                kind=kind,
                snapshots=found,
                end=last,
                period="year",
                compare="both",
                start_month=client_fiscal_start_month(services),
            )
            assert report.has_data, kind
            assert False not in report.checks, kind
        # One statement has its PDF and workbook built, linked from its page.
        outputs = list(StatementOutput.objects.filter(client=client))
        assert {(o.format, o.status) for o in outputs} == {
            ("pdf", OutputStatus.READY),
            ("xlsx", OutputStatus.READY),
        }
    http.force_login(outputs[0].created_by)
    page = http.get(f"/o/demo/reports/clients/{client.uuid}/profit-and-loss/")
    assert page.status_code == 200
    for output in outputs:
        assert f"/o/demo/reports/outputs/{output.uuid}/" in page.content.decode()


def test_every_month_of_the_demo_books_ties_for_every_period(db, cast, acme, record):
    """The generator's books through the service, then every statement of every
    month-end and period: the balance sheet balances, the cash flow ties to the
    bank accounts, the trial balance to its totals."""
    for day, rows in demo_trial_balances(last=date(2026, 6, 30), start_month=7):
        record(
            acme,
            day,
            {(n, name, kind, sub): dr - cr for n, name, kind, sub, dr, cr in rows},
        )
    with tenant_context(cast.alpha):
        acme.fiscal_year_end_month = 6
        found = ledger_dates(acme)
        checked = 0
        for end in found:
            for period in PERIODS:
                for kind in ("balance_sheet", "cash_flow", "trial_balance"):
                    report = statement_build(
                        kind=kind,
                        snapshots=found,
                        end=end,
                        period=period,
                        compare="both",
                        start_month=7,
                    )
                    assert False not in report.checks, (kind, end, period)
                    checked += report.checks.count(True)
        assert checked > 24 * 4 * 3
