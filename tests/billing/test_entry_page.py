"""One time entry's page: edit, delete; billed time shown read-only; whose entries."""

from __future__ import annotations

import datetime as dt

import pytest

from advisoros.tenancy.db import tenant_context
from billing.services.invoices import invoice_add_time, invoice_create, invoice_issue
from tests.factories import make_client, time_entries

DAY = dt.date(2027, 3, 3)  # a Wednesday


def _url(entry, suffix: str = "") -> str:
    return f"/o/alpha/billing/time/{entry.uuid}/{suffix}"


def _form(entry, **changes) -> dict:
    data = {
        "date": entry.date.isoformat(),
        "client": str(entry.client.uuid),
        "duration": "1:00",
        "description": entry.description,
        "billable": "on",
        **changes,
    }
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def sams(cast, acme, record):
    return record(cast.sam, acme, 60, on=DAY, description="Bank feeds")


def _bill(cast, client):
    with tenant_context(cast.alpha):
        invoice = invoice_create(organization=cast.alpha, client=client, by=cast.alice)
        invoice_add_time(invoice=invoice, by=cast.alice)
        return invoice_issue(invoice=invoice, by=cast.alice)


def test_the_page_shows_the_entry_in_its_form(cast, login_as, sams):
    response = login_as(cast.sam).get(_url(sams))

    form = response.context["form"]
    assert response.status_code == 200
    assert form.initial["date"] == DAY
    assert form.initial["client"] == str(sams.client.uuid)
    assert 'value="1:00"' in response.content.decode()


def test_an_edit_is_saved_and_leads_back_to_its_week(cast, login_as, acme, books, sams):
    response = login_as(cast.sam).post(
        _url(sams),
        _form(
            sams,
            date="2027-03-09",
            engagement=str(books.uuid),
            duration="2.5",
            description="Close",
            billable=None,
        ),
    )

    [entry] = time_entries(cast.alpha)
    assert response.status_code == 302
    assert response.url == "/o/alpha/billing/time/?week=2027-03-08"
    assert (entry.date, entry.minutes, entry.engagement_id) == (
        dt.date(2027, 3, 9),
        150,
        books.pk,
    )
    assert (entry.description, entry.billable) == ("Close", False)


def test_a_bad_edit_shows_its_errors_and_changes_nothing(cast, login_as, sams):
    response = login_as(cast.sam).post(_url(sams), _form(sams, duration="30"))

    assert response.status_code == 200
    assert "One entry holds at most 24 hours." in response.content.decode()
    assert time_entries(cast.alpha)[0].minutes == 60


def test_an_entry_moves_to_another_client_only_of_the_firm(cast, login_as, sams):
    theirs = make_client(cast.beta, "Beta's client")

    response = login_as(cast.sam).post(_url(sams), _form(sams, client=str(theirs.uuid)))

    assert response.status_code == 200
    assert time_entries(cast.alpha)[0].client_id == sams.client_id


def test_an_entry_is_deleted(cast, login_as, sams):
    response = login_as(cast.sam).post(_url(sams, "delete/"))

    assert response.status_code == 302
    assert response.url == "/o/alpha/billing/time/?week=2027-03-01"
    assert time_entries(cast.alpha) == []


def test_billed_time_is_shown_but_not_changed(cast, login_as, acme, sams):
    invoice = _bill(cast, acme)
    client = login_as(cast.sam)

    page = client.get(_url(sams))
    edit = client.post(_url(sams), _form(sams, duration="5"))
    delete = client.post(_url(sams, "delete/"))

    html = page.content.decode()
    assert page.context["form"] is None
    assert f"This time is billed on {invoice.display_number}" in html
    assert 'name="duration"' not in html
    assert edit.status_code == 302 and delete.status_code == 302
    [kept] = time_entries(cast.alpha)
    assert kept.minutes == 60 and kept.invoice_line_id is not None
    followed = client.get(edit.url).content.decode()
    assert "billed time cannot be changed" in followed


def test_the_timesheet_offers_no_edit_of_billed_time(cast, login_as, acme, sams):
    _bill(cast, acme)

    html = login_as(cast.sam).get("/o/alpha/billing/time/?week=2027-03-01").content

    assert b"Billed</span>" in html
    assert f"{_url(sams)}delete/".encode() not in html


def test_staff_do_not_find_someone_elses_entry(cast, login_as, acme, record):
    mias = record(cast.mia, acme, 60, on=DAY)
    client = login_as(cast.sam)

    assert client.get(_url(mias)).status_code == 404
    assert client.post(_url(mias), _form(mias)).status_code == 404
    assert client.post(_url(mias, "delete/")).status_code == 404
    assert len(time_entries(cast.alpha)) == 1


def test_a_manager_corrects_someone_elses_entry(cast, login_as, sams):
    response = login_as(cast.mia).post(_url(sams), _form(sams, duration="0:30"))

    sam = cast.membership(cast.sam, cast.alpha)
    assert response.url == f"/o/alpha/billing/time/?week=2027-03-01&member={sam.uuid}"
    [entry] = time_entries(cast.alpha)
    assert (entry.user_id, entry.minutes) == (cast.sam.pk, 30)


def test_another_firms_entry_is_not_found(cast, login_as, record):
    theirs = record(cast.oscar, make_client(cast.beta, "Beta's client"), 60, on=DAY)
    client = login_as(cast.alice)

    assert client.get(_url(theirs)).status_code == 404
    assert client.post(_url(theirs, "delete/")).status_code == 404
    assert len(time_entries(cast.beta)) == 1


def test_choosing_another_client_reloads_the_form(cast, login_as, books, sams):
    other = make_client(cast.alpha, "Other Co")

    response = login_as(cast.sam).get(
        f"{_url(sams)}?client={other.uuid}&date=2027-03-04&billable=on",
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    form = response.context["form"]
    assert "<html" not in html
    assert form.initial["client"] == str(other.uuid)
    assert str(books.uuid) not in dict(form.fields["engagement"].choices)
    assert form.initial["date"] == dt.date(2027, 3, 4)
