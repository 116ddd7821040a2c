"""Notifications: assignment and ready notices, due-soon and overdue notices, and
the batched email digest."""

from __future__ import annotations

import socket
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership
from tests.factories import wait_for_lock_waiters
from tests.workflows.conftest import move, tasks_of
from workflows.models import Notification, Task, TaskStatus
from workflows.services.notifications import (
    notifications_email_send,
    notify_tasks_assigned,
    task_due_notifications_create,
    unread_notification_count,
)
from workflows.services.tasks import task_assign, task_comment_add, task_create_adhoc
from workflows.tasks import notifications_email_run, task_due_notifications_run

SITE = "https://app.example.test"
STEPS = [
    ("Gather documents", {"assignee_rule": "preparer"}),
    ("Prepare return", {"assignee_rule": "preparer", "after": ["Gather documents"]}),
    ("Review", {"assignee_rule": "partner", "after": ["Prepare return"]}),
]


def _notices(organization, **filters) -> list[Notification]:
    with tenant_context(organization):
        return list(
            Notification.objects.filter(organization=organization, **filters)
            .select_related("task", "user")
            .order_by("pk")
        )


def _task(organization, title="Call the bank", **fields) -> Task:
    with tenant_context(organization):
        return Task.objects.create(
            organization=organization,
            title=title,
            status=fields.pop("status", TaskStatus.READY),
            **fields,
        )


@pytest.fixture
def tax(cast, make_template):
    return make_template(cast.alpha, "1040", STEPS)


# Assigned and ready ----------------------------------------------------------------


def test_assigning_a_task_tells_the_assignee(cast, jane):
    task = _task(cast.alpha, client=jane)

    with tenant_context(cast.alpha):
        task_assign(task=task, assignee=cast.sam, by=cast.alice)

    [notice] = _notices(cast.alpha)
    assert notice.user == cast.sam
    assert notice.kind == Notification.Kind.ASSIGNED
    assert notice.task == task
    assert notice.title == "Call the bank – Jane Doe"
    assert notice.url == f"/o/alpha/tasks/{task.uuid}/"
    assert notice.read_at is None and notice.emailed_at is None


def test_nobody_is_told_about_their_own_change(cast, jane):
    task = _task(cast.alpha, client=jane)

    with tenant_context(cast.alpha):
        task_assign(task=task, assignee=cast.sam, by=cast.sam)
        task_create_adhoc(
            organization=cast.alpha,
            title="Note to self",
            assignee=cast.sam,
            by=cast.sam,
        )

    assert _notices(cast.alpha) == []


def test_a_comment_tells_the_assignee_and_earlier_commenters_but_not_its_author(
    cast, jane
):
    task = _task(cast.alpha, client=jane, assignee=cast.sam)

    with tenant_context(cast.alpha):
        task_comment_add(task=task, body="Bank statements are in.", by=cast.sam)
        assert _notices(cast.alpha) == []  # nobody else follows the task yet
        task_comment_add(task=task, body="Thanks!\nI'll review\ttoday.", by=cast.adam)
        task_comment_add(task=task, body="Looks good.", by=cast.alice)

    notices = _notices(cast.alpha, kind=Notification.Kind.COMMENT)
    told = sorted((n.user.email, n.title) for n in notices)
    assert told == sorted(
        [
            (
                cast.sam.email,
                "Adam Admin on Call the bank – Jane Doe: Thanks! I'll review today.",
            ),
            (cast.sam.email, "Alice Owner on Call the bank – Jane Doe: Looks good."),
            (cast.adam.email, "Alice Owner on Call the bank – Jane Doe: Looks good."),
        ]
    )
    assert {n.url for n in notices} == {f"/o/alpha/tasks/{task.uuid}/#comments"}


def test_a_former_member_is_not_told_about_comments(cast, jane):
    task = _task(cast.alpha, client=jane, assignee=cast.sam)
    with platform_bypass():
        Membership.objects.filter(organization=cast.alpha, user=cast.sam).update(
            is_active=False
        )

    with tenant_context(cast.alpha):
        task_comment_add(task=task, body="Anyone?", by=cast.alice)

    assert _notices(cast.alpha) == []


def test_assigning_through_the_task_page_tells_the_assignee_only(cast, jane, login_as):
    task = _task(cast.alpha, client=jane)
    client = login_as(cast.alice)

    client.post(f"/o/alpha/tasks/{task.uuid}/assign/", {"assignee": str(cast.sam.uuid)})
    client.post(
        f"/o/alpha/tasks/{task.uuid}/assign/", {"assignee": str(cast.alice.uuid)}
    )

    assert [(n.user, n.kind) for n in _notices(cast.alpha)] == [
        (cast.sam, Notification.Kind.ASSIGNED)
    ]


def test_a_started_workflow_tells_the_people_whose_tasks_are_ready(
    cast, jane, tax, start
):
    start(tax, jane)

    [notice] = _notices(cast.alpha)
    assert (notice.user, notice.kind) == (cast.sam, Notification.Kind.READY)
    assert notice.title == "Gather documents – Jane Doe"


def test_a_task_that_becomes_ready_tells_its_assignee_but_not_who_finished_the_step(
    cast, jane, tax, start, login_as
):
    execution = start(tax, jane)
    with tenant_context(cast.alpha):  # the start's own notice is not the point here
        Notification.objects.filter(organization=cast.alpha).delete()
    client = login_as(cast.sam)

    def complete(title):
        task = tasks_of(execution)[title]
        client.post(f"/o/alpha/tasks/{task.uuid}/status/", {"to_status": "completed"})
        assert tasks_of(execution)[title].status == TaskStatus.COMPLETED

    # Sam completes his own step: the next one is his too, so no notice.
    complete("Gather documents")
    assert _notices(cast.alpha) == []
    # Sam completes the second: the review is Alice's.
    complete("Prepare return")
    [notice] = _notices(cast.alpha)
    assert (notice.user, notice.kind) == (cast.alice, Notification.Kind.READY)
    assert notice.title == "Review – Jane Doe"


def test_the_system_completing_a_step_tells_the_next_assignee(cast, jane, tax, start):
    execution = start(tax, jane)

    move(tasks_of(execution)["Gather documents"], TaskStatus.COMPLETED, None)

    notices = _notices(cast.alpha, kind=Notification.Kind.READY)
    assert [(n.user, n.task.title) for n in notices] == [
        (cast.sam, "Gather documents"),
        (cast.sam, "Prepare return"),
    ]


def test_the_unread_count_is_the_members_own_in_their_firm(cast, jane):
    for n in range(3):
        _task(cast.alpha, f"Task {n}", client=jane, assignee=cast.sam)
    with tenant_context(cast.alpha):
        tasks = list(Task.objects.filter(organization=cast.alpha).order_by("pk"))
        notify_tasks_assigned(tasks, by=cast.alice)
        Notification.objects.filter(task=tasks[0]).update(read_at=timezone.now())
        notify_tasks_assigned([tasks[1]], by=cast.sam)  # Sam's own: nothing

    with tenant_context(cast.alpha):
        assert (
            unread_notification_count(membership=cast.membership(cast.sam, cast.alpha))
            == 2
        )
        assert (
            unread_notification_count(membership=cast.membership(cast.adam, cast.alpha))
            == 0
        )
    with tenant_context(cast.beta):
        assert (
            unread_notification_count(membership=cast.membership(cast.oscar, cast.beta))
            == 0
        )


# Due soon and overdue ---------------------------------------------------------------


def test_due_soon_and_overdue_notices_are_made_once_per_task_and_person(
    cast, jane, make_wf_client
):
    today = date(2027, 3, 10)
    soon = _task(
        cast.alpha,
        "File extension",
        client=jane,
        assignee=cast.sam,
        due_date=today + timedelta(days=2),
    )
    late = _task(
        cast.alpha,
        "Send organizer",
        client=jane,
        assignee=cast.sam,
        due_date=today - timedelta(days=1),
    )
    _task(cast.alpha, "Later", assignee=cast.sam, due_date=today + timedelta(days=3))
    _task(cast.alpha, "Nobody's", due_date=today)
    _task(
        cast.alpha,
        "Done",
        assignee=cast.sam,
        due_date=today,
        status=TaskStatus.COMPLETED,
    )
    _task(cast.beta, "Beta's", assignee=cast.oscar, due_date=today)

    with tenant_context(cast.alpha):
        first = task_due_notifications_create(organization=cast.alpha, today=today)
        second = task_due_notifications_create(organization=cast.alpha, today=today)

    assert (first, second) == (2, 0)
    assert {(n.task_id, n.user_id, n.kind) for n in _notices(cast.alpha)} == {
        (soon.pk, cast.sam.pk, Notification.Kind.DUE_SOON),
        (late.pk, cast.sam.pk, Notification.Kind.OVERDUE),
    }
    # The next day the due-soon task is overdue: one more notice, once.
    with tenant_context(cast.alpha):
        assert (
            task_due_notifications_create(
                organization=cast.alpha, today=today + timedelta(days=3)
            )
            == 2
        )  # overdue + "Later" due soon
        assert (
            task_due_notifications_create(
                organization=cast.alpha, today=today + timedelta(days=3)
            )
            == 0
        )
    assert _notices(cast.beta) == []


def test_a_new_assignee_gets_their_own_due_soon_notice(cast, jane):
    today = date(2027, 3, 10)
    task = _task(cast.alpha, client=jane, assignee=cast.sam, due_date=today)
    with tenant_context(cast.alpha):
        task_due_notifications_create(organization=cast.alpha, today=today)
        task_assign(task=task, assignee=cast.adam, by=cast.alice)
        assert task_due_notifications_create(organization=cast.alpha, today=today) == 1

    assert [
        (n.user, n.kind) for n in _notices(cast.alpha, kind=Notification.Kind.DUE_SOON)
    ] == [(cast.sam, "due_soon"), (cast.adam, "due_soon")]


def test_the_database_refuses_a_second_due_soon_notice(cast, jane):
    task = _task(cast.alpha, client=jane, assignee=cast.sam, due_date=date(2027, 3, 10))
    with tenant_context(cast.alpha):
        task_due_notifications_create(organization=cast.alpha, today=date(2027, 3, 10))
        # A run that started before the first committed inserts the same notice:
        # the partial unique constraint skips it (ON CONFLICT DO NOTHING).
        Notification.objects.bulk_create(
            [
                Notification(
                    organization=cast.alpha,
                    user=cast.sam,
                    task=task,
                    kind=Notification.Kind.DUE_SOON,
                    title="Again",
                )
            ],
            ignore_conflicts=True,
        )

    assert len(_notices(cast.alpha, kind=Notification.Kind.DUE_SOON)) == 1


def test_the_scheduled_job_makes_each_firms_due_notices_in_that_firm(
    cast, jane, django_capture_on_commit_callbacks
):
    _task(cast.alpha, client=jane, assignee=cast.sam, due_date=firm_today(cast.alpha))
    _task(
        cast.beta,
        "Beta's",
        assignee=cast.oscar,
        due_date=firm_today(cast.beta) - timedelta(days=5),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert task_due_notifications_run() == 2

    assert [(n.user, n.kind) for n in _notices(cast.alpha)] == [(cast.sam, "due_soon")]
    assert [(n.user, n.kind) for n in _notices(cast.beta)] == [(cast.oscar, "overdue")]


# Email digests ----------------------------------------------------------------------


def _notify(organization, user, count, *, kind=Notification.Kind.ASSIGNED, **fields):
    with tenant_context(organization):
        Notification.objects.bulk_create(
            Notification(
                organization=organization,
                user=user,
                kind=kind,
                title=f"Task {n}",
                url=f"/o/{organization.slug}/tasks/{n}/",
                **fields,
            )
            for n in range(count)
        )


def _send(organization) -> int:
    with tenant_context(organization):
        return notifications_email_send(organization=organization)


@override_settings(SITE_URL=SITE)
def test_fifty_notices_make_one_email(cast):
    _notify(cast.alpha, cast.sam, 50)

    assert _send(cast.alpha) == 1

    [email] = mail.outbox
    assert email.to == ["sam@alpha.test"]
    assert email.subject == "Alpha Accounting: 50 updates on your work"
    assert email.body.count("- Assigned to you: Task ") == 50
    assert f"{SITE}/o/alpha/tasks/49/" in email.body
    assert f"{SITE}/o/alpha/work/notifications/" in email.body
    assert all(n.emailed_at is not None for n in _notices(cast.alpha))


def test_each_person_gets_their_own_email_and_read_notices_are_not_emailed(cast):
    _notify(cast.alpha, cast.sam, 2)
    _notify(cast.alpha, cast.adam, 1)
    _notify(cast.alpha, cast.alice, 3, read_at=timezone.now())  # seen in the app
    _notify(cast.beta, cast.oscar, 1)

    assert _send(cast.alpha) == 2

    assert sorted((e.to[0], e.subject) for e in mail.outbox) == [
        ("adam@alpha.test", "Alpha Accounting: 1 update on your work"),
        ("sam@alpha.test", "Alpha Accounting: 2 updates on your work"),
    ]
    assert [n.emailed_at for n in _notices(cast.alpha, user=cast.alice)] == [None] * 3
    assert _notices(cast.beta)[0].emailed_at is None  # Beta's own job sends it


def test_at_most_one_digest_an_hour(cast):
    _notify(cast.alpha, cast.sam, 1)
    assert _send(cast.alpha) == 1
    _notify(cast.alpha, cast.sam, 4)  # more arrive within the hour

    assert _send(cast.alpha) == 0  # they wait

    with tenant_context(cast.alpha):  # an hour later
        Notification.objects.filter(emailed_at__isnull=False).update(
            emailed_at=timezone.now() - timedelta(minutes=61)
        )
    assert _send(cast.alpha) == 1
    assert [e.subject for e in mail.outbox] == [
        "Alpha Accounting: 1 update on your work",
        "Alpha Accounting: 4 updates on your work",
    ]


def test_a_former_member_gets_no_email(cast):
    _notify(cast.alpha, cast.sam, 2)
    with platform_bypass():
        cast.membership(cast.sam, cast.alpha).__class__.objects.filter(
            user=cast.sam, organization=cast.alpha
        ).update(is_active=False)

    assert _send(cast.alpha) == 0
    assert mail.outbox == []


def test_a_failed_send_leaves_the_notices_for_the_next_run(cast, settings):
    _notify(cast.alpha, cast.sam, 3)
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }

    with pytest.raises(ConnectionRefusedError):
        _send(cast.alpha)

    assert [n.emailed_at for n in _notices(cast.alpha)] == [None] * 3


def test_the_scheduled_job_sends_each_firms_digests(
    cast, django_capture_on_commit_callbacks
):
    _notify(cast.alpha, cast.sam, 2)
    _notify(cast.beta, cast.oscar, 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_email_run() == 2

    assert sorted(e.to[0] for e in mail.outbox) == ["oscar@beta.test", "sam@alpha.test"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_email_the_same_notice_twice(cast):
    """Worker A claims Sam's notices and keeps its transaction open; worker B runs
    meanwhile on another connection: its claim waits for A's row locks, then
    finds every notice emailed and sends nothing."""
    _notify(cast.alpha, cast.sam, 5)
    a_sent, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker_a():
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                results["a"] = notifications_email_send(organization=cast.alpha)
                a_sent.set()
                release.wait(15)
        except Exception as exc:  # pragma: no cover - reported below
            results["a"] = exc
            a_sent.set()
        finally:
            connection.close()

    def worker_b():
        try:
            with tenant_context(cast.alpha):
                results["b"] = notifications_email_send(organization=cast.alpha)
        except Exception as exc:  # pragma: no cover - reported below
            results["b"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=worker_a)
    a.start()
    assert a_sent.wait(15)
    b = threading.Thread(target=worker_b)
    b.start()
    b_waited = wait_for_lock_waiters(statement="UPDATE workflows_notification")
    release.set()
    a.join(15)
    b.join(15)

    assert (results["a"], results["b"]) == (1, 0)
    assert b_waited
    [email] = mail.outbox
    assert email.body.count("- Assigned to you:") == 5
