"""The workload page: budgeted hours per person per ISO week against capacity."""

from __future__ import annotations

from datetime import timedelta

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership, Role
from tests.workflows.pages import make_task, make_tasks, today
from workflows.views.workload import CAPACITY_HOURS, WEEKS, Cell

URL = "/o/alpha/work/workload/"


def _rows(response) -> dict:
    return {row.name: row for row in response.context["rows"]}


def test_hours_count_in_the_iso_week_they_are_due(cast, login_as):
    now = today(cast.alpha)
    monday = now - timedelta(days=now.weekday())
    make_task(
        cast.alpha, "This week", assignee=cast.sam, due_date=now, budgeted_minutes=90
    )
    make_task(
        cast.alpha,
        "Next week",
        assignee=cast.sam,
        due_date=monday + timedelta(days=7),
        budgeted_minutes=120,
    )
    make_task(
        cast.alpha,
        "Next week too",
        assignee=cast.sam,
        due_date=monday + timedelta(days=13),
        status="in_progress",
        budgeted_minutes=60,
    )
    make_task(
        cast.alpha,
        "Far off",
        assignee=cast.sam,
        due_date=monday + timedelta(weeks=WEEKS + 2),
        budgeted_minutes=600,
    )
    make_task(cast.alpha, "Someday", assignee=cast.sam, budgeted_minutes=30)
    # Closed work counts nowhere.
    make_task(
        cast.alpha,
        "Done",
        assignee=cast.sam,
        due_date=now,
        status="completed",
        budgeted_minutes=999,
    )

    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    sam = _rows(response)["Sam Staff"]
    assert [c.minutes for c in sam.weeks] == [90, 180, 0, 0, 0, 0]
    assert sam.weeks[1].hours == 3.0
    assert sam.later_hours == 10.0
    assert sam.undated_minutes == 30
    weeks = response.context["weeks"]
    assert weeks[0]["start"] == monday and len(weeks) == WEEKS
    assert weeks[0]["number"] == now.isocalendar().week


def test_overdue_work_is_counted_per_person_and_not_charged_to_a_week(cast, login_as):
    now = today(cast.alpha)
    make_tasks(
        cast.alpha,
        3,
        assignee=cast.adam,
        due_date=now - timedelta(days=1),
        budgeted_minutes=60,
    )
    make_task(
        cast.alpha,
        "Waiting but late",
        assignee=cast.adam,
        status="pending",
        due_date=now - timedelta(days=30),
    )

    response = login_as(cast.alice).get(URL)

    adam = _rows(response)["Adam Admin"]
    assert adam.overdue == 4
    assert adam.overdue_hours == 3.0
    assert sum(c.minutes for c in adam.weeks) == 0
    assert "4 overdue" in response.content.decode()


def test_every_working_member_has_a_row_and_unassigned_work_its_own(cast, login_as):
    make_task(cast.alpha, "Nobody's", due_date=today(cast.alpha), budgeted_minutes=45)

    response = login_as(cast.sam).get(URL)

    rows = _rows(response)
    # Read-only members do no tasks: no row for Rita.
    assert set(rows) == {
        "Alice Owner",
        "Adam Admin",
        "Mia Manager",
        "Sam Staff",
        "Unassigned",
    }
    assert rows["Unassigned"].weeks[0].minutes == 45
    assert rows["Alice Owner"].tasks == 0


def test_a_former_members_work_stays_visible(cast, login_as, make_member):
    gone = make_member(cast.alpha, "Gone Person", Role.STAFF, is_active=False)
    make_task(cast.alpha, "Left behind", assignee=gone, budgeted_minutes=60)

    rows = _rows(login_as(cast.alice).get(URL))

    assert rows["Former members"].undated_minutes == 60


def test_a_cell_says_how_full_the_week_is():
    hours = CAPACITY_HOURS * 60
    assert Cell(0).load == "load-none"
    assert Cell(hours // 4).load == "load-low"
    assert Cell(hours * 3 // 4).load == "load-ok"
    assert Cell(hours).load == "load-full"
    assert Cell(hours * 11 // 10).load == "load-over"
    assert Cell(hours * 2).load == "load-way-over"
    assert Cell(hours // 2).percent == 50


def test_each_person_is_measured_against_their_own_capacity(cast, login_as):
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=cast.sam).update(weekly_capacity_hours=20)
        Membership.objects.filter(user=cast.mia).update(weekly_capacity_hours=0)
    now = today(cast.alpha)
    for person in (cast.sam, cast.adam, cast.mia):
        make_task(
            cast.alpha,
            "Half a week",
            assignee=person,
            due_date=now,
            budgeted_minutes=20 * 60,
        )
    make_task(cast.alpha, "Nobody's", due_date=now, budgeted_minutes=60)

    response = login_as(cast.alice).get(URL)

    rows = _rows(response)
    html = response.content.decode()
    assert (rows["Sam Staff"].capacity, rows["Adam Admin"].capacity) == (20, 40)
    assert rows["Sam Staff"].weeks[0].load == "load-full"  # 20 of 20 hours
    assert rows["Adam Admin"].weeks[0].load == "load-ok"  # 20 of 40 hours
    assert rows["Sam Staff"].weeks[0].percent == 100
    # No capacity at all: any work is far over, and nothing divides by zero.
    assert rows["Mia Manager"].weeks[0].load == "load-way-over"
    assert rows["Mia Manager"].weeks[0].percent == 100
    assert rows["Unassigned"].capacity == CAPACITY_HOURS
    assert '<meter min="0" max="20"' in html
    assert 'data-testid="capacity">20 h a week<' in html
    assert 'data-testid="capacity">0 h a week<' in html


def test_the_cells_are_drawn_without_inline_styles(cast, login_as):
    make_task(
        cast.alpha,
        "Big job",
        assignee=cast.sam,
        due_date=today(cast.alpha),
        budgeted_minutes=50 * 60,
    )

    html = login_as(cast.alice).get(URL).content.decode()

    assert 'class="heat load-over"' in html
    assert '<meter min="0" max="40"' in html and 'value="50.0"' in html
    assert "style=" not in html


def test_an_empty_firm_says_what_will_appear(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    assert "No open work" in html


def test_the_query_count_does_not_grow_with_tasks(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(URL)
    for n in (3, 80):
        make_tasks(cast.alpha, n, assignee=cast.sam, budgeted_minutes=30)
        make_tasks(cast.alpha, n, budgeted_minutes=30, status="pending")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the open tasks' sums per assignee,
        # 6 the members, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(URL)
        assert response.status_code == 200
