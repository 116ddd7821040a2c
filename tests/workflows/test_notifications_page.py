"""The bell in the header and the notifications page."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from tests.workflows.pages import make_task
from workflows.models import Notification

URL = "/o/alpha/work/notifications/"
BADGE = "/o/alpha/work/notifications/badge/"


def _notify(org, user, title: str, *, read: bool = False, url: str = "", **fields):
    with tenant_context(org):
        return Notification.objects.create(
            organization=org,
            user=user,
            kind=fields.pop("kind", "assigned"),
            title=title,
            url=url,
            read_at=timezone.now() if read else None,
            **fields,
        )


def _unread(org, user) -> int:
    with tenant_context(org):
        return Notification.objects.filter(user=user, read_at__isnull=True).count()


# The bell ----------------------------------------------------------------------------


def test_every_firm_page_has_a_bell_that_loads_its_count_after_the_page(cast, login_as):
    html = login_as(cast.sam).get("/o/alpha/clients/").content.decode()

    assert 'data-testid="bell"' in html
    assert f'href="{URL}"' in html
    assert f'hx-get="{BADGE}"' in html and 'hx-trigger="load"' in html


def test_the_badge_counts_my_unread_notifications_only(cast, login_as):
    for i in range(3):
        _notify(cast.alpha, cast.sam, f"Task {i} assigned to you")
    _notify(cast.alpha, cast.sam, "Old news", read=True)
    _notify(cast.alpha, cast.alice, "Alice's")
    _notify(cast.beta, cast.oscar, "Another firm's")

    response = login_as(cast.sam).get(BADGE)

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"  # a firm page's
    html = response.content.decode()
    assert ">3<" in html and "unread" in html


def test_the_badge_is_empty_when_nothing_is_unread(cast, login_as):
    _notify(cast.alpha, cast.sam, "Old news", read=True)

    html = login_as(cast.sam).get(BADGE).content.decode()

    assert html.strip() == '<span class="bell-count" data-testid="bell-count"></span>'


def test_the_badge_is_one_query(cast, login_as, django_assert_num_queries):
    client = login_as(cast.sam)
    client.get(BADGE)
    for i in range(20):
        _notify(cast.alpha, cast.sam, f"N{i}")
    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's firms
    # (the membership and the switcher), 5 the count, 6 reset the RLS context.
    with django_assert_num_queries(6):
        client.get(BADGE)


# The page -----------------------------------------------------------------------------


def test_the_page_lists_my_notifications_newest_first(cast, login_as):
    old = _notify(cast.alpha, cast.sam, "Older")
    with tenant_context(cast.alpha):
        Notification.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=1)
        )
    _notify(cast.alpha, cast.sam, "Newer", kind="overdue")
    _notify(cast.alpha, cast.alice, "Not mine")

    response = login_as(cast.sam).get(URL)

    assert [n.title for n in response.context["page"].rows] == ["Newer", "Older"]
    html = response.content.decode()
    assert "Overdue" in html and "Not mine" not in html
    assert response.context["unread"] == 2


def test_unread_only_and_pages(cast, login_as):
    for i in range(35):
        _notify(cast.alpha, cast.sam, f"N{i:02d}", read=i % 2 == 0)
    client = login_as(cast.sam)

    unread = client.get(URL, {"show": "unread"})
    first = client.get(URL)
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})

    assert len(unread.context["page"].rows) == 17
    assert len(first.context["page"].rows) == 30
    assert len(second.context["page"].rows) == 5


def test_opening_a_notification_marks_it_read_and_goes_to_its_task(cast, login_as):
    task = make_task(cast.alpha, "Prepare return", assignee=cast.sam)
    notice = _notify(
        cast.alpha,
        cast.sam,
        "Prepare return is ready",
        task=task,
        url=f"/o/alpha/tasks/{task.uuid}/",
    )

    response = login_as(cast.sam).post(f"{URL}{notice.uuid}/read/", {"open": "1"})

    assert response.status_code == 302
    assert response.url == f"/o/alpha/tasks/{task.uuid}/"
    assert _unread(cast.alpha, cast.sam) == 0


def test_a_notification_never_sends_anyone_off_the_site(cast, login_as):
    notice = _notify(cast.alpha, cast.sam, "Odd", url="https://evil.example/")

    response = login_as(cast.sam).post(f"{URL}{notice.uuid}/read/", {"open": "1"})

    assert response.url == URL


def test_mark_all_read_marks_only_mine(cast, login_as):
    for i in range(3):
        _notify(cast.alpha, cast.sam, f"N{i}")
    _notify(cast.alpha, cast.alice, "Alice's")
    client = login_as(cast.sam)

    response = client.post(f"{URL}read-all/", follow=True)

    assert _unread(cast.alpha, cast.sam) == 0
    assert _unread(cast.alpha, cast.alice) == 1
    assert "3 notifications marked read." in response.content.decode()


def test_someone_elses_notification_is_not_found(cast, login_as):
    alices = _notify(cast.alpha, cast.alice, "Alice's")

    response = login_as(cast.sam).post(f"{URL}{alices.uuid}/read/")

    assert response.status_code == 404
    assert _unread(cast.alpha, cast.alice) == 1


def test_a_read_only_member_reads_the_list_but_cannot_post(cast, login_as):
    notice = _notify(cast.alpha, cast.rita, "For Rita", url="/o/alpha/work/")
    client = login_as(cast.rita)

    html = client.get(URL).content.decode()

    assert "For Rita" in html and 'href="/o/alpha/work/"' in html
    assert "read-all" not in html
    assert client.post(f"{URL}{notice.uuid}/read/").status_code == 403


def test_an_empty_list_says_what_will_appear(cast, login_as):
    html = login_as(cast.sam).get(URL).content.decode()

    assert "No notifications yet" in html


def test_the_query_count_does_not_grow_with_notifications(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(URL)
    for n in (2, 40):
        for i in range(n):
            _notify(cast.alpha, cast.sam, f"N{n}-{i}")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the page of notifications, 6 the
        # unread count, 7 reset.
        with django_assert_num_queries(7):
            assert client.get(URL).status_code == 200
