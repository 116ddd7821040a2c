"""The recurring-invoice pages: the list, choosing an engagement, a new one with
its lines, its page (edit, pause, resume, end), and the engagement page's panel."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice, RecurringInvoice
from billing.services.recurring import recurring_run_due
from tests.factories import make_client, make_recurring_invoice, make_retainer

LIST = "/o/alpha/billing/recurring/"
CHOOSE = "/o/alpha/billing/recurring/new/"


@pytest.fixture
def retainer(cast, jane):
    return make_retainer(jane, name="Bookkeeping 2027", fee_amount=Decimal("600"))


@pytest.fixture
def today(cast) -> date:
    return firm_today(cast.alpha)


def _new(engagement) -> str:
    return f"{CHOOSE}{engagement.uuid}/"


def _page(recurring) -> str:
    return f"{LIST}{recurring.uuid}/"


def _form(today: date, **values) -> dict:
    data = {
        "cadence": "monthly",
        "next_date": today.isoformat(),
        "end_date": "",
        "issue_automatically": "on",
        "memo": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "3",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-description": "Bookkeeping",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "600.00",
        "lines-0-taxable": "on",
        "lines-1-description": "Payroll, per run",
        "lines-1-quantity": "2",
        "lines-1-unit_price": "45.50",
        "lines-2-description": "",
        "lines-2-quantity": "",
        "lines-2-unit_price": "",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


# The list --------------------------------------------------------------------------


def test_the_list_shows_each_with_what_a_period_bills(
    cast, login_as, jane, retainer, today
):
    make_recurring_invoice(
        retainer,
        cast.mia,
        next_date=today,
        lines=[("Bookkeeping", "1", "600"), ("Payroll", "1.5", "60.75")],
    )

    response = login_as(cast.rita).get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="recurring-row"') == 1
    assert "Jane Doe" in page and "Bookkeeping 2027" in page
    assert "691.13" in page  # 600.00 + 1.5 x 60.75 = 91.125, half-up to 91.13
    assert "Active" in page
    assert 'data-testid="new-recurring"' not in page  # read-only: no buttons


def test_the_list_makes_the_same_number_of_queries_for_1_or_30_rows(
    cast, login_as, today, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(LIST)  # the first request also writes the session
    for count in (1, 29):
        for i in range(count):
            engagement = make_retainer(make_client(cast.alpha, f"Client {count} {i}"))
            make_recurring_invoice(engagement, cast.mia, next_date=today)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of recurring invoices
        # with their client, engagement and what a period bills, 6 reset the RLS
        # context.
        with django_assert_num_queries(6):
            response = client.get(LIST)
        assert response.status_code == 200
    assert response.content.decode().count('data-testid="recurring-row"') == 25


def test_the_list_says_when_there_is_none(cast, login_as):
    page = login_as(cast.mia).get(LIST).content.decode()
    assert 'data-testid="recurring-empty"' in page
    assert "bill an engagement every period" in page


def test_staff_who_see_their_clients_only_see_their_recurring_invoices(
    cast, login_as, jane, retainer, today
):
    other = make_retainer(make_client(cast.alpha, "Acme Corp", partner=cast.alice))
    make_recurring_invoice(retainer, cast.mia, next_date=today)
    hidden = make_recurring_invoice(other, cast.mia, next_date=today)
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)

    page = login_as(cast.sam).get(LIST).content.decode()

    assert "Jane Doe" in page and "Acme Corp" not in page
    assert login_as(cast.mia).get(_page(hidden)).status_code == 200


# Setting one up --------------------------------------------------------------------


def test_the_chooser_finds_open_engagements(cast, login_as, jane, retainer):
    make_retainer(make_client(cast.alpha, "Acme Corp"), name="Acme payroll")
    client = login_as(cast.mia)

    everything = client.get(CHOOSE).content.decode()
    found = client.get(CHOOSE, {"find": "acme"}).content.decode()

    assert everything.count('data-testid="engagement-choice"') == 2
    assert found.count('data-testid="engagement-choice"') == 1
    assert "Acme payroll" in found and "Bookkeeping 2027" not in found
    assert _new(retainer) in everything


def test_the_form_starts_from_the_engagements_fee(cast, login_as, retainer, today):
    page = login_as(cast.mia).get(_new(retainer)).content.decode()

    assert 'value="Bookkeeping 2027"' in page
    assert 'value="600.00"' in page
    assert "Create recurring invoice" in page


def test_a_manager_sets_one_up_with_its_lines(cast, login_as, jane, retainer, today):
    response = login_as(cast.mia).post(_new(retainer), _form(today))

    with tenant_context(cast.alpha):
        recurring = RecurringInvoice.objects.get()
        lines = [
            (line.description, line.quantity, line.unit_price, line.taxable)
            for line in recurring.lines.all()
        ]
    assert response.status_code == 302
    assert response.url == _page(recurring)
    assert (recurring.engagement_id, recurring.client_id) == (retainer.pk, jane.pk)
    assert (recurring.next_date, recurring.created_by_id) == (today, cast.mia.pk)
    assert lines == [
        ("Bookkeeping", Decimal("1"), Decimal("600.00"), True),
        ("Payroll, per run", Decimal("2"), Decimal("45.50"), False),
    ]


def test_a_bad_date_or_no_line_is_shown_on_the_form(cast, login_as, retainer, today):
    client = login_as(cast.mia)
    yesterday = (today - timedelta(days=1)).isoformat()
    empty = {f"lines-{i}-description": "" for i in range(3)} | {
        "lines-0-unit_price": "",
        "lines-1-unit_price": "",
    }

    past = client.post(_new(retainer), _form(today, next_date=yesterday))
    nothing = client.post(_new(retainer), _form(today, **empty))

    assert past.status_code == nothing.status_code == 200
    assert "cannot be dated in the past" in past.content.decode()
    assert "Add at least one line" in nothing.content.decode()
    with tenant_context(cast.alpha):
        assert not RecurringInvoice.objects.exists()


def test_a_line_with_a_price_needs_a_description(cast, login_as, retainer, today):
    response = login_as(cast.mia).post(
        _new(retainer),
        _form(today, **{"lines-2-unit_price": "10", "lines-2-description": ""}),
    )
    assert "Describe the line, or clear the row." in response.content.decode()


def test_staff_cannot_set_one_up(cast, login_as, retainer, today):
    client = login_as(cast.sam)
    assert client.get(CHOOSE).status_code == 403
    assert client.post(_new(retainer), _form(today)).status_code == 403


# Its page --------------------------------------------------------------------------


def test_its_page_shows_the_coming_dates_and_the_invoices_made(
    cast, login_as, retainer, today
):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=today)
    with tenant_context(cast.alpha):
        recurring_run_due(organization=cast.alpha, today=today)

    page = login_as(cast.mia).get(_page(recurring)).content.decode()

    assert page.count('data-testid="invoice-made"') == 1
    assert "INV-00001" in page
    assert "Next invoices on" in page


def test_an_edit_changes_the_coming_invoices(cast, login_as, retainer, today):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=today)

    response = login_as(cast.mia).post(
        _page(recurring),
        _form(
            today,
            cadence="quarterly",
            **{"lines-1-description": "", "lines-1-unit_price": ""},
        ),
    )

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        recurring.refresh_from_db()
        assert [line.description for line in recurring.lines.all()] == ["Bookkeeping"]
    assert recurring.cadence == "quarterly"


def test_pause_resume_and_end(cast, login_as, retainer, today):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=today)
    client = login_as(cast.mia)

    client.post(f"{_page(recurring)}active/", {"active": "0"})
    paused = client.get(_page(recurring)).content.decode()
    client.post(f"{_page(recurring)}active/", {"active": "1"})
    resumed = client.get(_page(recurring)).content.decode()
    client.post(f"{_page(recurring)}end/")
    ended = client.get(_page(recurring)).content.decode()
    again = client.post(f"{_page(recurring)}active/", {"active": "1"}, follow=True)

    assert 'data-testid="resume"' in paused and "Paused" in paused
    assert 'data-testid="pause"' in resumed
    assert "Ended" in ended and 'data-testid="end"' not in ended
    assert "has ended" in again.content.decode()
    with tenant_context(cast.alpha):
        recurring.refresh_from_db()
    assert recurring.end_date == today - timedelta(days=1)
    assert not recurring.is_active


# The engagement page's panel -------------------------------------------------------


def test_the_engagement_page_has_the_panel_slot(cast, login_as, retainer):
    page = login_as(cast.rita).get(f"/o/alpha/engagements/{retainer.uuid}/")

    html = page.content.decode()
    assert 'data-testid="engagement-recurring-slot"' in html
    assert f'hx-get="/o/alpha/billing/recurring/engagement/{retainer.uuid}/"' in html


def test_the_panel_lists_the_engagements_recurring_invoices(
    cast, login_as, retainer, today, django_assert_num_queries
):
    url = f"/o/alpha/billing/recurring/engagement/{retainer.uuid}/"
    client = login_as(cast.mia)
    client.get(url)  # the first request also writes the session
    for count in (1, 9):
        for _ in range(count):
            make_recurring_invoice(retainer, cast.mia, next_date=today)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the engagement with its client, 6 its recurring invoices with
        # what a period bills, 7 reset the RLS context.
        with django_assert_num_queries(7):
            panel = client.get(url, headers={"HX-Request": "true"})
    html = panel.content.decode()
    assert html.count('data-testid="engagement-recurring-row"') == 10
    assert "<html" not in html  # the panel alone
    assert 'data-testid="engagement-recurring-new"' in html
    assert "<html" in client.get(url).content.decode()  # without htmx: a page


def test_read_only_members_see_the_panel_without_buttons(
    cast, login_as, retainer, today
):
    make_recurring_invoice(retainer, cast.mia, next_date=today)
    url = f"/o/alpha/billing/recurring/engagement/{retainer.uuid}/"

    html = login_as(cast.rita).get(url).content.decode()

    assert html.count('data-testid="engagement-recurring-row"') == 1
    assert 'data-testid="engagement-recurring-new"' not in html


def test_made_invoices_link_back_through_the_firm_only(cast, login_as, retainer, today):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=today)
    with tenant_context(cast.alpha):
        recurring_run_due(organization=cast.alpha, today=today)
        assert Invoice.objects.filter(recurring=recurring).count() == 1

    assert login_as(cast.oscar).get(_page(recurring)).status_code == 404
