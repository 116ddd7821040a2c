"""Time and budget on the engagement page: the panel, budgets against actuals,
and the engagement's own rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.models import EngagementRate, TimeEntry
from clients.models import Engagement
from tests.factories import make_client
from workflows.models import Task

DAY = dt.date(2027, 3, 3)


def _panel(engagement) -> str:
    return f"/o/alpha/billing/engagements/{engagement.uuid}/time/"


def _rates_url(engagement, rate=None) -> str:
    url = f"/o/alpha/billing/engagements/{engagement.uuid}/rates/"
    return f"{url}{rate.uuid}/delete/" if rate else url


def _rates(cast, engagement) -> dict:
    with tenant_context(cast.alpha):
        return {
            r.membership.user.name if r.membership else None: r.billing_rate
            for r in EngagementRate.objects.filter(
                engagement=engagement
            ).select_related("membership__user")
        }


def test_the_engagement_page_holds_a_placeholder_htmx_fills(cast, login_as, books):
    html = login_as(cast.sam).get(f"/o/alpha/engagements/{books.uuid}/").content

    assert (
        f'<div class="panel" id="engagement-time" hx-get="{_panel(books)}" '
        'hx-trigger="load" hx-swap="outerHTML"'
    ).encode() in html
    assert f'<a href="{_panel(books)}">'.encode() in html  # without JavaScript


def test_recorded_time_is_set_against_the_budget(
    cast, login_as, acme, books, reconcile, record
):
    record(cast.sam, acme, 150, on=DAY, task=reconcile)  # 2:30 of 2:00 budgeted
    record(cast.mia, acme, 60, on=DAY, engagement=books, billable=False)
    record(cast.sam, acme, 999, on=DAY)  # no engagement: not this one's

    response = login_as(cast.sam).get(_panel(books), headers={"HX-Request": "true"})

    html = response.content.decode()
    budget = response.context["budget"]
    assert "<html" not in html and 'id="engagement-time"' in html
    assert (budget.budgeted, budget.recorded, budget.remaining) == (600, 210, 390)
    assert response.context["totals"] == {
        "recorded": 210,
        "billable_minutes": 150,
        "unbilled": 150,
    }
    [task] = response.context["tasks"]
    assert (task.budget.budgeted, task.budget.recorded) == (120, 150)
    assert task.budget.over and task.budget.over_by == 30
    assert "0:30 over" in html
    assert response.context["no_task"] == 60
    assert 'data-testid="engagement-left">6:30 h' in html


def test_an_engagement_over_its_budget_says_by_how_much(
    cast, login_as, acme, books, record
):
    for _ in range(3):
        record(cast.sam, acme, 240, on=DAY, engagement=books)

    html = login_as(cast.sam).get(_panel(books)).content.decode()

    assert "Over budget by" in html and "2:00 h over" in html


def test_without_javascript_the_panel_is_a_page(cast, login_as, books):
    response = login_as(cast.sam).get(_panel(books))

    html = response.content.decode()
    assert "<html" in html and "<h1>Time and budget</h1>" in html
    assert "HX-Request" in response["Vary"]


def test_a_task_without_budget_or_time_is_not_listed(cast, login_as, books, reconcile):
    with tenant_context(cast.alpha):
        Task.objects.create(
            organization=cast.alpha,
            execution=reconcile.execution,
            client=books.client,
            title="Nothing here",
        )

    response = login_as(cast.sam).get(_panel(books))

    assert [t.title for t in response.context["tasks"]] == ["Reconcile the bank"]


def test_another_firms_engagement_is_not_found(cast, login_as, books):
    assert (
        login_as(cast.oscar)
        .get(f"/o/beta/billing/engagements/{books.uuid}/time/")
        .status_code
        == 404
    )


def test_the_panel_costs_the_same_queries_for_few_or_many_entries(
    cast, login_as, acme, books, reconcile, django_assert_num_queries
):
    client = login_as(cast.mia)
    client.get(_panel(books))
    for count in (2, 30):
        with tenant_context(cast.alpha):
            tasks = Task.objects.bulk_create(
                Task(
                    organization=cast.alpha,
                    execution=reconcile.execution,
                    client=acme,
                    title=f"Step {count}-{i}",
                    budgeted_minutes=60,
                )
                for i in range(count)
            )
            TimeEntry.objects.bulk_create(
                TimeEntry(
                    organization=cast.alpha,
                    user=cast.sam,
                    client=acme,
                    engagement=books,
                    task=task,
                    date=DAY,
                    minutes=30,
                )
                for task in tasks
            )
            EngagementRate.objects.update_or_create(
                organization=cast.alpha,
                engagement=books,
                membership=cast.membership(cast.mia, cast.alpha) if count > 2 else None,
                defaults={"billing_rate": Decimal("200")},
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the engagement with its client,
        # 6 the recorded minutes by task, 7 its tasks with a budget or time, 8 its
        # rates with their members, 9 the members for the rate form, 10 reset the
        # RLS context.
        with django_assert_num_queries(10):
            response = client.get(_panel(books), headers={"HX-Request": "true"})
        assert response.status_code == 200
    assert len(response.context["tasks"]) == 33


# The engagement's own rates -------------------------------------------------------------


def test_a_manager_sets_rates_for_everyone_and_for_one_member(cast, login_as, books):
    client = login_as(cast.mia)
    sam = cast.membership(cast.sam, cast.alpha)

    everyone = client.post(_rates_url(books), {"member": "", "billing_rate": "180"})
    one = client.post(
        _rates_url(books), {"member": str(sam.uuid), "billing_rate": "95"}
    )
    again = client.post(_rates_url(books), {"member": "", "billing_rate": "185"})

    assert everyone.status_code == one.status_code == again.status_code == 302
    assert everyone.url == f"/o/alpha/engagements/{books.uuid}/#engagement-time"
    assert _rates(cast, books) == {None: Decimal("185"), "Sam Staff": Decimal("95")}
    html = client.get(_panel(books)).content.decode()
    assert "Everyone: <strong>185.00</strong> an hour" in html
    assert "Sam Staff: <strong>95.00</strong> an hour" in html


def test_a_manager_removes_a_rate(cast, login_as, books):
    with tenant_context(cast.alpha):
        rate = EngagementRate.objects.create(
            organization=cast.alpha, engagement=books, billing_rate=Decimal("180")
        )

    response = login_as(cast.mia).post(_rates_url(books, rate))

    assert response.status_code == 302
    assert _rates(cast, books) == {}


def test_staff_see_the_rates_but_cannot_change_them(cast, login_as, books):
    with tenant_context(cast.alpha):
        rate = EngagementRate.objects.create(
            organization=cast.alpha, engagement=books, billing_rate=Decimal("180")
        )
    client = login_as(cast.sam)

    page = client.get(_panel(books))
    add = client.post(_rates_url(books), {"member": "", "billing_rate": "1"})
    remove = client.post(_rates_url(books, rate))

    assert "Everyone: <strong>180.00</strong>" in page.content.decode()
    assert page.context["rate_form"] is None
    assert (add.status_code, remove.status_code) == (403, 403)
    assert _rates(cast, books) == {None: Decimal("180")}


@pytest.mark.parametrize(
    "data",
    [{"member": "", "billing_rate": "-1"}, {"member": "nobody", "billing_rate": "5"}],
)
def test_a_bad_rate_is_refused(cast, login_as, books, data):
    response = login_as(cast.mia).post(_rates_url(books), data, follow=True)

    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("The rate was not saved:")
    assert _rates(cast, books) == {}


def test_another_firms_member_is_not_a_choice(cast, login_as, books):
    oscar = cast.membership(cast.oscar, cast.beta)

    login_as(cast.mia).post(
        _rates_url(books), {"member": str(oscar.uuid), "billing_rate": "5"}
    )

    assert _rates(cast, books) == {}


def test_a_rate_of_another_engagement_is_not_found(cast, login_as, acme, books):
    with tenant_context(cast.alpha):
        other = Engagement.objects.create(
            organization=cast.alpha,
            client=acme,
            name="Advisory",
            engagement_type="advisory",
        )
        rate = EngagementRate.objects.create(
            organization=cast.alpha, engagement=other, billing_rate=Decimal("300")
        )

    response = login_as(cast.mia).post(_rates_url(books, rate))

    assert response.status_code == 404
    assert _rates(cast, other) == {None: Decimal("300")}


def test_staff_who_see_their_clients_only_get_404_elsewhere(cast, login_as):
    from advisoros.tenancy.db import platform_bypass
    from advisoros.tenancy.models import Organization

    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    hidden = make_client(cast.alpha, "Not Sam's", partner=cast.alice)
    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=hidden,
            name="Hidden",
            engagement_type="advisory",
        )

    assert login_as(cast.sam).get(_panel(engagement)).status_code == 404
