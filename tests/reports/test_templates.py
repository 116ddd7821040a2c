"""Statement templates: account groups show several accounts as one line and
never change a total; numbers and zero rows follow the template; the staff
page saves a client's layout, the firm's default serves clients without one."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from reports.models import LedgerAccount, StatementTemplate
from reports.statements import ledger_dates, statement_build, template_for
from tests.factories import make_client

pytestmark = pytest.mark.django_db

END = date(2026, 12, 31)


def _build(client, kind: str, template=None):
    with tenant_context(client.organization):
        return statement_build(
            kind=kind,
            snapshots=ledger_dates(client),
            end=END,
            period="month",
            compare="both",
            start_month=1,
            template=template,
        )


def _totals(statement) -> list[tuple[str, list]]:
    return [(r.label, r.amounts) for r in statement.rows if r.kind != "account"]


def _ids(client, *numbers: str) -> list[int]:
    with tenant_context(client.organization):
        return list(
            LedgerAccount.objects.filter(client=client, number__in=numbers)
            .order_by("number")
            .values_list("id", flat=True)
        )


@pytest.mark.parametrize(
    "kind", ["profit_and_loss", "balance_sheet", "cash_flow", "trial_balance"]
)
def test_grouping_accounts_keeps_every_total(cast, acme, books, kind):
    books(acme, 14)
    payroll = _ids(acme, "6000", "6010")  # wages, payroll taxes
    banks = _ids(acme, "1000", "1010")  # operating, savings
    template = StatementTemplate(
        organization=cast.alpha,
        client=acme,
        groups={
            **{str(i): "Payroll" for i in payroll},
            **{str(i): "Cash at bank" for i in banks},
        },
    )

    plain, grouped = _build(acme, kind), _build(acme, kind, template)

    assert _totals(grouped) == _totals(plain)
    assert grouped.checks == plain.checks
    assert all(check in (True, None) for check in grouped.checks)
    labels = [r.label for r in grouped.rows if r.kind == "account"]
    if kind == "trial_balance":  # lists every account, groups or not
        assert labels == [r.label for r in plain.rows if r.kind == "account"]
        return
    by_label = {r.label: r.amounts for r in plain.rows if r.kind == "account"}
    members = {
        "profit_and_loss": ("Payroll", ["6000 · Wages", "6010 · Payroll taxes"]),
        "balance_sheet": (
            "Cash at bank",
            ["1000 · Operating account", "1010 · Savings"],
        ),
    }
    if kind in members:
        group, parts = members[kind]
        row = next(r for r in grouped.rows if r.label == group)
        assert row.amounts == [
            sum(values) for values in zip(*(by_label[p] for p in parts), strict=True)
        ]
        assert not set(parts) & set(labels)


def test_numbers_and_zero_rows_follow_the_template(cast, acme, record):
    record(
        acme,
        END,
        {
            ("1000", "Checking", "Bank"): 100,
            ("1500", "Old truck", "Fixed Asset"): 0,
            ("4000", "Sales", "Income"): -100,
        },
    )
    template = StatementTemplate(
        organization=cast.alpha,
        client=acme,
        show_account_numbers=False,
        show_zero_rows=True,
    )

    plain = _build(acme, "balance_sheet")
    shown = _build(acme, "balance_sheet", template)

    plain_labels = [r.label for r in plain.rows if r.kind == "account"]
    shown_labels = [r.label for r in shown.rows if r.kind == "account"]
    assert "1000 · Checking" in plain_labels and "1500 · Old truck" not in plain_labels
    assert "Checking" in shown_labels and "Old truck" in shown_labels


def test_staff_save_a_clients_layout_and_its_statements_use_it(
    cast, login_as, acme, books
):
    books(acme, 2)
    wages, taxes = _ids(acme, "6000", "6010")
    url = reverse(
        "reports:template_edit",
        kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
    )
    http = login_as(cast.sam)

    assert http.get(url).status_code == 200
    response = http.post(
        url,
        {
            "title": "Monthly pack",
            "order_balance_sheet": "1",
            "order_profit_and_loss": "2",
            "show_account_numbers": "on",
            f"group_{wages}": "Payroll",
            f"group_{taxes}": "Payroll",
            "group_999999": "Another client's account",
        },
    )

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        template = template_for(acme)
    assert template.client_id == acme.pk
    assert template.kinds == ["balance_sheet", "profit_and_loss"]
    assert template.groups == {str(wages): "Payroll", str(taxes): "Payroll"}
    page = http.get(
        reverse(
            "reports:profit_and_loss",
            kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
        )
    )
    html = page.content.decode()
    assert ">Payroll</th>" in html  # the row header of the group's figures
    assert "6000 · Wages" not in html


def test_a_layout_needs_a_statement_and_loses_nothing_typed(cast, login_as, acme):
    url = reverse(
        "reports:template_edit",
        kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
    )

    response = login_as(cast.sam).post(url, {"title": "Kept", "footer": "Also kept"})

    assert response.status_code == 200
    assert "Give at least one statement a position." in response.content.decode()
    assert response.context["form"]["title"].value() == "Kept"
    with tenant_context(cast.alpha):
        assert not StatementTemplate.objects.exists()


def test_the_firms_default_serves_clients_without_their_own(cast, login_as, acme):
    other = make_client(cast.alpha, "Other Co")
    url = reverse("reports:default_template_edit", kwargs={"org_slug": "alpha"})

    assert login_as(cast.sam).get(url).status_code == 403  # managers and up
    login_as(cast.mia).post(
        url, {"title": "House style", "order_cash_flow": "1", "branded": "on"}
    )
    with tenant_context(cast.alpha):
        StatementTemplate.objects.create(
            organization=cast.alpha, client=acme, title="Acme's own"
        )
        assert template_for(other).title == "House style"
        assert template_for(other).kinds == ["cash_flow"]
        assert template_for(acme).title == "Acme's own"
