"""What every money report page shares: the navigation entry, the tabs, who may
read them, GET only, and the figures' format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.nav import declared_nav
from advisoros.templatetags.figures import amount

PAGES = ["", "ageing/", "realization/", "revenue/", "budget/"]
CSVS = ["wip.csv", "ageing.csv", "realization.csv", "revenue.csv", "budget.csv"]


def test_the_navigation_has_money_reports_among_billings_entries():
    (entry,) = [e for e in declared_nav() if e.key == "money_reports"]

    assert (entry.label, entry.url_name, entry.order) == (
        "Money reports",
        "billing:report_wip",
        440,
    )
    assert entry.is_current("report_revenue") and not entry.is_current("invoice_list")


@pytest.mark.parametrize("page", PAGES)
def test_every_report_is_a_tab_marked_current_on_its_own_page(cast, login_as, page):
    html = login_as(cast.alice).get(f"/o/alpha/billing/reports/{page}").content.decode()

    for tab in PAGES:
        assert f'href="/o/alpha/billing/reports/{tab}"' in html
    assert html.count('aria-current="page"') == 2  # the side navigation and the tab
    assert ">Money reports</a>" in html


@pytest.mark.parametrize("path", PAGES + CSVS)
def test_read_only_members_may_read_them_and_outsiders_get_404(cast, login_as, path):
    url = f"/o/alpha/billing/reports/{path}"

    assert login_as(cast.rita).get(url).status_code == 200
    assert login_as(cast.oscar).get(url).status_code == 404


@pytest.mark.parametrize("path", PAGES + CSVS)
def test_they_answer_get_only(cast, login_as, path):
    response = login_as(cast.alice).post(f"/o/alpha/billing/reports/{path}")

    assert response.status_code == 405


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/o/alpha/billing/reports/")

    assert response.status_code in (302, 404)


def test_the_filter_form_keeps_the_chosen_period_and_grouping(cast, login_as):
    html = (
        login_as(cast.alice)
        .get(
            "/o/alpha/billing/reports/",
            {
                "period": "custom",
                "start": "2026-01-01",
                "end": "2026-03-31",
                "group": "partner",
            },
        )
        .content.decode()
    )

    assert '<option value="custom" selected>' in html
    assert 'value="2026-01-01"' in html and 'value="2026-03-31"' in html
    assert '<option value="partner" selected>' in html
    assert (
        "period=custom&amp;start=2026-01-01&amp;end=2026-03-31&amp;group=partner"
        in html
    )


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("1234.5"), 2, "1,234.50"),
        (Decimal("-1234567.891"), 2, "-1,234,567.89"),
        (Decimal("10.25"), 1, "10.2"),  # half-even, as format() rounds
        (0, 2, "0.00"),
        (None, 2, ""),
        ("", 2, ""),
        ("n/a", 2, ""),
    ],
)
def test_the_amount_filter(value, places, text):
    assert amount(value, places) == text


@pytest.mark.parametrize("csv_name", CSVS)
def test_each_csv_export_is_on_the_audit_trail(cast, login_as, csv_name):
    from advisoros.audit.models import AuditAction, AuditEvent
    from advisoros.tenancy.db import tenant_context

    response = login_as(cast.alice).get(
        f"/o/alpha/billing/reports/{csv_name}", {"period": "last_year"}
    )
    b"".join(response.streaming_content)

    with tenant_context(cast.alpha):
        event = AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.REPORT_EXPORTED
        ).get()
    assert event.actor == cast.alice
    assert f"-{event.detail['period']}.csv" in response["Content-Disposition"]
    assert event.detail["query"] == {"period": "last_year"}
    assert event.target == event.detail["report"]
