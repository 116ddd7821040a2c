"""The CSV trial-balance import: upload, preview with row errors, then the whole
trial balance or nothing (reports/csv_import.py, reports/views.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from reports.csv_import import account_type_parse, amount_parse, template_csv
from reports.models import (
    ImportStatus,
    LedgerAccount,
    TrialBalance,
    TrialBalanceImport,
    TrialBalanceLine,
)

pytestmark = pytest.mark.django_db

GOOD = (
    "Account Number,Account Name,Account Type,Account Subtype,Debit,Credit\n"
    '1000,Checking,Bank,Checking,"12,500.00",\n'
    "1200,Receivables,Accounts Receivable (A/R),,3000,\n"
    "2000,Payables,Accounts Payable,,,1500.00\n"
    "3000,Owner's capital,Equity,,,10000\n"
    "4000,Sales,Income,,,$9000.00\n"
    "6100,Rent,Expense,,5000,\n"
)


def _upload(http, client, text: str, month: str = "2026-03", name: str = "tb.csv"):
    return http.post(
        reverse(
            "reports:import_upload",
            kwargs={"org_slug": client.organization.slug, "client_uuid": client.uuid},
        ),
        {
            "month": month,
            "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
        },
    )


def _latest_import(client) -> TrialBalanceImport:
    with tenant_context(client.organization):
        return TrialBalanceImport.objects.filter(client=client).latest("created_at")


def _confirm(http, upload: TrialBalanceImport):
    return http.post(
        reverse(
            "reports:import_confirm",
            kwargs={
                "org_slug": upload.organization.slug,
                "trial_balance_import_uuid": upload.uuid,
            },
        )
    )


def _ledger(client):
    with tenant_context(client.organization):
        return (
            list(TrialBalance.objects.filter(client=client)),
            list(LedgerAccount.objects.filter(client=client)),
            TrialBalanceLine.objects.filter(trial_balance__client=client).count(),
        )


def test_a_good_file_is_previewed_then_imported_whole(cast, login_as, acme):
    http = login_as(cast.sam)

    response = _upload(http, acme, GOOD)

    upload = _latest_import(acme)
    assert response.status_code == 302
    assert response.url.endswith(f"/reports/imports/{upload.uuid}/")
    assert _ledger(acme) == ([], [], 0)  # the preview writes nothing
    page = http.get(response.url)
    assert page.status_code == 200
    assert page.context["can_import"]
    assert page.context["new_accounts"] == 6
    assert "A new account in the client" in page.content.decode()
    assert upload.period_end == date(2026, 3, 31)
    assert upload.total_debit == upload.total_credit == Decimal("20500.00")

    response = _confirm(http, upload)

    assert response.status_code == 302
    snapshots, accounts, lines = _ledger(acme)
    assert [(s.period_end, s.total_debit, s.source) for s in snapshots] == [
        (date(2026, 3, 31), Decimal("20500.00"), "csv")
    ]
    assert lines == 6
    assert {(a.number, a.name, a.account_type) for a in accounts} >= {
        ("1200", "Receivables", "Accounts Receivable"),
        ("4000", "Sales", "Income"),
    }
    assert snapshots[0].raw[0]["account_name"] == "Checking"
    assert snapshots[0].recorded_by == cast.sam
    assert _latest_import(acme).status == ImportStatus.IMPORTED


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("5000,Freight,Shipping,,10,", "account_type", "is not an account type"),
        ("5000,Freight,Expense,,ten,", "debit", "is not a number"),
        ("5000,Freight,Expense,,10,10", "credit", "Both a debit and a credit"),
        ("5000,Freight,Expense,,-10,", "debit", "negative"),
        ("1000,Checking again,Bank,,10,", "account_number", "same account"),
        ("5000,checking,Expense,,10,", "account_name", "same account"),
        (",,Expense,,10,", "account_name", "no name"),
        # Past the 28 digits of Decimal's default context: a row error, where
        # rounding it to the cent raised InvalidOperation (a server error).
        ("5000,Freight,Expense,,1e30,", "debit", "too large"),
        ("5000,Freight,Expense,,," + "9" * 40, "credit", "too large"),
    ],
)
def test_a_bad_row_is_shown_with_its_error_and_nothing_is_imported(
    cast, login_as, acme, row, column, message
):
    http = login_as(cast.sam)
    _upload(http, acme, GOOD + row + "\n")
    upload = _latest_import(acme)

    page = http.get(
        reverse(
            "reports:import_preview",
            kwargs={"org_slug": "alpha", "trial_balance_import_uuid": upload.uuid},
        )
    )
    response = _confirm(http, upload)

    assert not page.context["can_import"]
    errors = [m for m in upload.errors if m["row"] == 8]
    assert [m["column"] for m in errors] == [column]
    assert message in errors[0]["message"]
    assert message in page.content.decode()
    assert response.status_code == 302
    assert _ledger(acme) == ([], [], 0)


def test_a_trial_balance_that_does_not_balance_is_refused_whole(cast, login_as, acme):
    http = login_as(cast.sam)
    _upload(http, acme, GOOD.replace("5000,\n", "5000.01,\n"))
    upload = _latest_import(acme)

    response = _confirm(http, upload)

    assert upload.error_count == 1
    (error,) = [m for m in upload.errors if m["level"] == "error"]
    assert error["row"] == 0
    assert "does not balance" in error["message"]
    assert "a difference of 0.01" in error["message"]
    assert response.status_code == 302
    assert _ledger(acme) == ([], [], 0)


def test_the_import_checks_again_at_confirm_and_imports_nothing(
    cast, login_as, acme, record
):
    http = login_as(cast.sam)
    _upload(http, acme, GOOD)
    upload = _latest_import(acme)
    # Meanwhile another account of the client took the number 6100's name.
    record(
        acme,
        date(2026, 1, 31),
        {("6200", "Rent", "Expense"): 5, ("1000", "Checking", "Bank"): -5},
    )

    response = _confirm(http, upload)

    upload = _latest_import(acme)
    assert response.status_code == 302
    assert upload.status == ImportStatus.PREVIEWED
    assert any("already named" in m["message"] for m in upload.errors)
    snapshots, _, _ = _ledger(acme)
    assert [s.period_end for s in snapshots] == [date(2026, 1, 31)]


def test_a_double_confirm_imports_once(cast, login_as, acme):
    http = login_as(cast.sam)
    _upload(http, acme, GOOD)
    upload = _latest_import(acme)

    _confirm(http, upload)
    _confirm(http, upload)

    snapshots, _, lines = _ledger(acme)
    assert len(snapshots) == 1 and lines == 6


def test_a_second_import_for_the_same_month_replaces_it_and_keeps_the_accounts(
    cast, login_as, acme
):
    http = login_as(cast.sam)
    _upload(http, acme, GOOD)
    _confirm(http, _latest_import(acme))
    _, before, _ = _ledger(acme)
    renamed = (
        GOOD.replace("4000,Sales,", "4000,Product sales,")
        .replace("5000,\n", "4000,\n")
        .replace("$9000.00", "8000")
    )

    _upload(http, acme, renamed)
    page = http.get(
        reverse(
            "reports:import_preview",
            kwargs={
                "org_slug": "alpha",
                "trial_balance_import_uuid": _latest_import(acme).uuid,
            },
        )
    )
    _confirm(http, _latest_import(acme))

    assert page.context["replaces"]
    assert page.context["new_accounts"] == 0
    assert "Renames the account “Sales”." in page.content.decode()
    snapshots, after, lines = _ledger(acme)
    assert len(snapshots) == 1 and snapshots[0].total_debit == Decimal("19500.00")
    assert lines == 6
    # Matched by number: the same account, renamed.
    assert {a.pk for a in after} == {a.pk for a in before}
    assert {a.name for a in after if a.number == "4000"} == {"Product sales"}


def test_amounts_are_read_as_people_write_them_and_rounded_to_the_cent():
    assert amount_parse("1,234.50") == Decimal("1234.50")
    assert amount_parse("$ 99") == Decimal("99.00")
    assert amount_parse("(12.00)") == Decimal("-12.00")
    assert amount_parse("") == Decimal("0.00")
    assert amount_parse("10.005") == Decimal("10.01")
    assert amount_parse("10.004") == Decimal("10.00")
    with pytest.raises(ValueError):
        amount_parse("1.2.3")
    with pytest.raises(ValueError):
        amount_parse("NaN")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Bank", "Bank"),
        ("accounts receivable (a/r)", "Accounts Receivable"),
        ("AccountsPayable", "Accounts Payable"),
        ("Long-term liability", "Long Term Liability"),
        ("COGS", "Cost of Goods Sold"),
        ("Revenue", "Income"),
        ("Other expense", "Other Expense"),
        ("Shipping", None),
    ],
)
def test_account_types_are_read_from_quickbooks_names_and_common_ones(
    written, expected
):
    assert account_type_parse(written) == expected


def test_the_template_is_a_balanced_example_safe_for_spreadsheets(cast, login_as):
    response = login_as(cast.rita).get(
        reverse("reports:import_template", kwargs={"org_slug": "alpha"})
    )

    assert response.status_code == 200
    assert response.content.decode() == template_csv()
    assert template_csv().splitlines()[0].startswith("account_number,account_name")


def test_a_file_that_is_not_a_trial_balance_gets_a_clear_message(cast, login_as, acme):
    http = login_as(cast.sam)

    response = _upload(http, acme, "name,email\nJane,j@x.test\n")
    month = _upload(http, acme, GOOD, month="March")

    assert "must name the columns" in response.content.decode()
    assert "Enter a month as YYYY-MM" in month.content.decode()
    with tenant_context(cast.alpha):
        assert not TrialBalanceImport.objects.exists()


def test_a_read_only_member_cannot_import(cast, login_as, acme):
    response = _upload(login_as(cast.rita), acme, GOOD)

    assert response.status_code == 403


def test_staff_limited_to_their_clients_cannot_import_for_another(cast, login_as, acme):
    from tests.factories import make_client

    other = make_client(cast.alpha, "Other Co")
    with tenant_context(cast.alpha):
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    http = login_as(cast.sam)

    assert _upload(http, other, GOOD).status_code == 404
    assert _upload(http, acme, GOOD).status_code == 302
