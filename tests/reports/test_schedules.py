"""Scheduled statements: after a month-end whose trial balance is in, the
package is built once per period and its PDF shared to the client's portal,
where only contacts with the client's grant see it; quarterly schedules build
fiscal quarter-ends only; nothing happens before the trial balance exists."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from documents.models import Document
from reports.models import OutputStatus, StatementOutput, StatementSchedule
from reports.outputs import statement_schedules_build
from reports.statements import add_months
from reports.tasks import statement_schedules_run
from tests.factories import PASSWORD, make_client
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    portal_login,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

JAN_4 = date(2027, 1, 4)
FEB_3 = date(2027, 2, 3)


def _schedule(client, first: date, **fields) -> StatementSchedule:
    with tenant_context(client.organization):
        return StatementSchedule.objects.create(
            organization=client.organization,
            client=client,
            first_period_end=first,
            **fields,
        )


def test_each_due_period_is_built_once_and_shared_to_the_portal(cast, acme, books):
    books(acme, 3)  # Oct, Nov, Dec 2026
    _schedule(acme, date(2026, 11, 30))
    make_grant(make_contact(acme, "Ann", "Acme", "ann@acme.test"), acme)
    ann = make_portal_account("ann@acme.test", PASSWORD)
    other = make_client(cast.alpha, "Other Co")
    make_grant(make_contact(other, "Olga", "Other", "olga@other.test"), other)
    olga = make_portal_account("olga@other.test", PASSWORD)

    with tenant_context(cast.alpha):
        first = statement_schedules_build(organization=cast.alpha, today=JAN_4)
        again = statement_schedules_build(organization=cast.alpha, today=JAN_4)

    assert (first, again) == (2, 0)  # Nov and Dec; October is before the schedule
    with tenant_context(cast.alpha):
        outputs = list(StatementOutput.objects.order_by("period_end", "format"))
        shared = list(Document.objects.filter(visible_to_client=True).order_by("title"))
    assert [(o.period_end.month, o.format, o.status) for o in outputs] == [
        (11, "pdf", OutputStatus.READY),
        (11, "xlsx", OutputStatus.READY),
        (12, "pdf", OutputStatus.READY),
        (12, "xlsx", OutputStatus.READY),
    ]
    assert [d.title for d in shared] == [
        "Financial statements, December 2026",
        "Financial statements, November 2026",
    ]
    assert {d.category for d in shared} == {"financial_statement"}
    assert {d.client_id for d in shared} == {acme.pk}
    assert {o.document_id for o in outputs if o.format == "pdf"} == {
        d.pk for d in shared
    }
    # Ann (Acme's contact) sees them; Olga (another client's) does not.
    ann_list = portal_login(HttpClient(), "alpha", ann).get("/p/alpha/documents/")
    assert "Financial statements, December 2026" in ann_list.content.decode()
    olga_http = portal_login(HttpClient(), "alpha", olga)
    assert (
        "Financial statements"
        not in olga_http.get("/p/alpha/documents/").content.decode()
    )
    assert olga_http.get(f"/p/alpha/documents/{shared[0].uuid}/").status_code == 404


def test_nothing_is_built_before_the_months_trial_balance_is_in(
    cast, acme, books, record
):
    books(acme, 2)  # to Dec 2026, but the schedule starts in January
    schedule = _schedule(acme, date(2027, 1, 31), share_to_portal=False)

    with tenant_context(cast.alpha):
        early = statement_schedules_build(organization=cast.alpha, today=FEB_3)
        assert not StatementOutput.objects.filter(schedule=schedule).exists()
    record(
        acme,
        date(2027, 1, 31),
        {("1000", "Operating account", "Bank"): 10, ("4000", "Sales", "Income"): -10},
    )
    with tenant_context(cast.alpha):
        late = statement_schedules_build(organization=cast.alpha, today=FEB_3)
        assert not Document.objects.exists()  # not shared: the schedule says so

    assert (early, late) == (0, 1)


def test_a_quarterly_schedule_builds_fiscal_quarter_ends(cast, acme, books):
    books(acme, 6)  # Jul to Dec 2026; fiscal year from January
    _schedule(acme, date(2026, 7, 31), frequency="quarterly", share_to_portal=False)

    with tenant_context(cast.alpha):
        built = statement_schedules_build(
            organization=cast.alpha, today=date(2027, 1, 2)
        )
        periods = set(
            StatementOutput.objects.values_list("period_end", "period").distinct()
        )

    assert built == 2
    assert periods == {(date(2026, 9, 30), "quarter"), (date(2026, 12, 31), "quarter")}


def test_staff_start_a_schedule_from_the_clients_ledger(cast, login_as, acme):
    url = reverse(
        "reports:schedule_edit", kwargs={"org_slug": "alpha", "client_uuid": acme.uuid}
    )
    http = login_as(cast.sam)

    response = http.post(
        url, {"frequency": "monthly", "share_to_portal": "on", "is_active": "on"}
    )

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        schedule = StatementSchedule.objects.get(client=acme)
    # The month-end just past: earlier months are left alone.
    assert schedule.first_period_end == add_months(firm_today(cast.alpha), -1)
    assert schedule.share_to_portal and schedule.is_active
    assert http.get(url).status_code == 200


def test_the_hourly_run_queues_each_firm_and_builds_the_month_just_closed(
    cast, acme, record, run_schedule
):
    last = add_months(firm_today(cast.alpha), -1)
    _schedule(acme, last, share_to_portal=False)
    record(
        acme, last, {("1000", "Checking", "Bank"): 5, ("4000", "Sales", "Income"): -5}
    )

    assert run_schedule(statement_schedules_run) == 1
    assert run_schedule(statement_schedules_run) == 0
    with tenant_context(cast.alpha):
        assert StatementOutput.objects.filter(status="ready").count() == 2
