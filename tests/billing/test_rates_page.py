"""The rates and capacity page (admins): members' rates and weekly hours, the
firm's time rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from advisoros.tenancy.db import tenant_context
from billing.models import MemberRate
from tests.factories import make_member, time_entries
from workflows.models import Task

URL = "/o/alpha/billing/rates/"


def _member_url(cast, user, org=None) -> str:
    org = org or cast.alpha
    return f"/o/{org.slug}/billing/rates/{cast.membership(user, org).uuid}/"


def _rate(cast, user) -> MemberRate | None:
    with tenant_context(cast.alpha):
        return MemberRate.objects.filter(membership__user=user).first()


def test_admins_see_every_active_member_with_rates_and_capacity(cast, login_as):
    gone = make_member(cast.alpha, "Gina Gone", "staff", is_active=False)
    with tenant_context(cast.alpha):
        MemberRate.objects.create(
            organization=cast.alpha,
            membership=cast.membership(cast.sam, cast.alpha),
            billing_rate=Decimal("120"),
            cost_rate=Decimal("45"),
        )

    response = login_as(cast.adam).get(URL)

    html = response.content.decode()
    members = {m.user.name: m for m in response.context["members"]}
    assert response.status_code == 200
    assert set(members) == {
        "Alice Owner",
        "Adam Admin",
        "Mia Manager",
        "Sam Staff",
        "Rita Readonly",
    }
    assert gone.name not in html
    assert (members["Sam Staff"].billing_rate, members["Sam Staff"].cost_rate) == (
        Decimal("120"),
        Decimal("45"),
    )
    assert 'aria-label="Billing rate of Sam Staff"' in html
    assert 'value="120.00"' in html and 'value="45.00"' in html


@pytest.mark.parametrize("person", ["mia", "sam", "rita"])
def test_only_admins_and_owners_open_the_page(cast, login_as, person):
    assert login_as(getattr(cast, person)).get(URL).status_code == 403


def test_an_admin_sets_a_members_rates_and_capacity(cast, login_as):
    client = login_as(cast.alice)

    response = client.post(
        _member_url(cast, cast.sam),
        {"billing_rate": "135.50", "cost_rate": "52", "weekly_capacity_hours": "32"},
        follow=True,
    )

    rate = _rate(cast, cast.sam)
    assert (rate.billing_rate, rate.cost_rate) == (Decimal("135.50"), Decimal("52"))
    assert cast.membership(cast.sam, cast.alpha).weekly_capacity_hours == 32
    assert "Rates and capacity of Sam Staff saved." in response.content.decode()


def test_the_capacity_shows_on_the_workload_page(cast, login_as, reconcile):
    with tenant_context(cast.alpha):
        Task.objects.filter(pk=reconcile.pk).update(assignee=cast.sam)
    client = login_as(cast.alice)
    client.post(
        _member_url(cast, cast.sam),
        {"billing_rate": "0", "cost_rate": "0", "weekly_capacity_hours": "24"},
    )

    workload = client.get("/o/alpha/work/workload/")

    [sam] = [r for r in workload.context["rows"] if r.name == "Sam Staff"]
    assert sam.capacity == 24
    assert 'data-testid="capacity">24 h a week<' in workload.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"billing_rate": "-1", "cost_rate": "0", "weekly_capacity_hours": "40"},
        {"billing_rate": "10", "cost_rate": "x", "weekly_capacity_hours": "40"},
        {"billing_rate": "10", "cost_rate": "0", "weekly_capacity_hours": "169"},
        {},
    ],
)
def test_bad_rates_are_refused_with_a_message(cast, login_as, data):
    response = login_as(cast.alice).post(_member_url(cast, cast.sam), data, follow=True)

    assert _rate(cast, cast.sam) is None
    assert cast.membership(cast.sam, cast.alpha).weekly_capacity_hours == 40
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Sam Staff: ")


def test_another_firms_member_is_not_found(cast, login_as):
    response = login_as(cast.oscar).post(
        f"/o/beta/billing/rates/{cast.membership(cast.sam, cast.alpha).uuid}/",
        {"billing_rate": "1", "cost_rate": "1", "weekly_capacity_hours": "1"},
    )

    assert response.status_code == 404
    assert _rate(cast, cast.sam) is None


def test_a_new_rate_changes_no_recorded_time(cast, login_as, acme, record):
    record(cast.sam, acme, 60)
    login_as(cast.alice).post(
        _member_url(cast, cast.sam),
        {"billing_rate": "300", "cost_rate": "90", "weekly_capacity_hours": "40"},
    )

    [entry] = time_entries(cast.alpha)
    assert (entry.rate, entry.cost_rate) == (Decimal("150.00"), Decimal("0"))


def test_the_page_points_to_the_rules_in_billing_settings(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    assert "the firm's default rate, 150.00 USD an hour" in html
    assert "6-minute increments, round up to the next increment" in html
    assert 'href="/o/alpha/billing/settings/"' in html


def test_the_page_costs_the_same_queries_for_5_or_25_members(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(URL)  # also makes the firm's settings row
    for count in (0, 20):
        for i in range(count):
            make_member(cast.alpha, f"Extra Person {i}", "staff")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the firm's billing settings,
        # 6 the members with their users and rates, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(URL)
        assert len(response.context["members"]) == 5 + count
