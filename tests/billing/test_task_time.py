"""Recorded time on the task page: the panel, its budget and a timer for the task."""

from __future__ import annotations

import datetime as dt

from tests.factories import timers

DAY = dt.date(2027, 3, 3)


def _panel(task) -> str:
    return f"/o/alpha/billing/tasks/{task.uuid}/time/"


def test_the_task_page_holds_a_placeholder_htmx_fills(cast, login_as, reconcile):
    html = login_as(cast.sam).get(f"/o/alpha/tasks/{reconcile.uuid}/").content

    assert (
        f'<div class="panel" id="task-time" hx-get="{_panel(reconcile)}" '
        'hx-trigger="load" hx-swap="outerHTML"'
    ).encode() in html


def test_the_panel_sets_recorded_time_against_the_tasks_budget(
    cast, login_as, acme, reconcile, record
):
    record(cast.sam, acme, 30, on=DAY, task=reconcile)
    record(
        cast.mia,
        acme,
        60,
        on=DAY + dt.timedelta(days=1),
        task=reconcile,
        billable=False,
    )
    record(cast.sam, acme, 500, on=DAY)  # not on the task

    response = login_as(cast.sam).get(_panel(reconcile), headers={"HX-Request": "true"})

    html = response.content.decode()
    budget = response.context["budget"]
    assert "<html" not in html
    assert (budget.budgeted, budget.recorded, budget.remaining) == (120, 90, 30)
    assert (
        'data-testid="task-recorded">1:30 h <small class="muted">(0:30 billable)'
        in html
    )
    assert [e.user.name for e in response.context["entries"]] == [
        "Mia Manager",
        "Sam Staff",
    ]


def test_a_timer_started_from_the_task_is_on_the_task(
    cast, login_as, acme, books, reconcile
):
    client = login_as(cast.sam)
    here = f"/o/alpha/tasks/{reconcile.uuid}/"
    html = client.get(_panel(reconcile)).content.decode()
    assert 'data-testid="task-timer-start"' in html

    response = client.post(
        "/o/alpha/billing/timer/start/",
        {
            "client": str(acme.uuid),
            "engagement": str(books.uuid),
            "task": str(reconcile.uuid),
            "description": reconcile.title,
            "billable": "on",
            "next": here,
        },
    )

    [timer] = timers(cast.alpha)
    assert response.url == here
    assert (timer.task_id, timer.engagement_id, timer.description) == (
        reconcile.pk,
        books.pk,
        "Reconcile the bank",
    )


def test_a_read_only_member_sees_the_time_but_no_timer(cast, login_as, reconcile):
    response = login_as(cast.rita).get(_panel(reconcile))

    assert response.status_code == 200
    assert 'data-testid="task-timer-start"' not in response.content.decode()


def test_the_panel_is_a_fixed_number_of_queries(
    cast, login_as, acme, reconcile, record, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(_panel(reconcile))
    for n in (1, 12):
        for _ in range(n):
            record(cast.sam, acme, 10, on=DAY, task=reconcile)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the task with its client and
        # workflow's engagement, 6 the minutes recorded on it, 7 its latest entries
        # with their people, 8 reset the RLS context.
        with django_assert_num_queries(8):
            response = client.get(_panel(reconcile))
        assert response.status_code == 200
    assert len(response.context["entries"]) == 10


def test_another_firms_task_is_not_found(cast, login_as, reconcile):
    response = login_as(cast.oscar).get(f"/o/beta/billing/tasks/{reconcile.uuid}/time/")

    assert response.status_code == 404
