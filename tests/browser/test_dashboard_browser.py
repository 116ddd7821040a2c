"""The firm dashboard in a real browser: its panels fit a phone (390 px) and a
desk, and pass axe (WCAG 2.1 AA) with every chart's table of figures open, for a
busy firm and for a new one. (The staff-page walks check the dashboard as one
page among many, with its tables closed.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from advisoros.tenancy.clock import firm_today
from portal.models import Activity
from tests.browser.axe import fit_and_accessibility_faults
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import (
    make_client,
    make_document,
    write_invoice,
    write_payment,
    write_time_entry,
)
from tests.tenancy.test_dashboard import _add_activity, _add_request
from tests.workflows.pages import make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "phone": {"width": 390, "height": 844},
    "desk": {"width": 1280, "height": 900},
}
LONG = "Wolfeschlegelsteinhausenbergerdorff Family Trust"


@pytest.fixture
def busy_alpha(cast):
    """Alpha with a figure in every panel, and long names to stretch them."""
    today = firm_today(cast.alpha)
    trust = make_client(cast.alpha, LONG, partner=cast.alice)
    make_task(cast.alpha, "Reconcile the bank", assignee=cast.sam, due_date=today)
    make_task(cast.alpha, "Late", assignee=cast.mia, due_date=today - timedelta(3))
    make_task(cast.alpha, LONG, due_date=today)
    paid = write_invoice(
        trust,
        lines=[("1234.56", "1234.56")],
        status="paid",
        issue_date=today - timedelta(40),
    )
    write_payment(paid, "1234.56", received_on=today - timedelta(20))
    write_invoice(
        trust,
        lines=[("98765.43", "98765.43")],
        issue_date=today - timedelta(70),
        due_date=today - timedelta(40),
        status="overdue",
    )
    write_time_entry(trust, cast.sam, minutes=120, day=today - timedelta(95))
    make_document(trust, title=LONG, ocr_status="needs_review")
    _add_request(trust, items=[("open", today - timedelta(1)), ("received", today)])
    _add_activity(
        cast.alpha, Activity.UPLOADED, client=trust, summary=f"Uploaded {LONG}.pdf"
    )
    return cast


def _faults_with_tables_open(page, path: str) -> list[str]:
    page.goto(path)
    page.evaluate(
        "() => document.querySelectorAll('details').forEach(d => d.open = true)"
    )
    return fit_and_accessibility_faults(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_fits_and_passes_axe(width, page, busy_alpha, console_errors):
    cast = busy_alpha
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")

    assert page.locator("figure.chart svg[role=img]").count() == 3
    assert _faults_with_tables_open(page, "/o/alpha/") == []

    page.context.clear_cookies()
    sign_in(page, cast.oscar.email, PASSWORD, lands_on="**/o/beta/")
    assert page.locator(".dash-grid .empty").count() == 8
    assert _faults_with_tables_open(page, "/o/beta/") == []
    assert console_errors == []
