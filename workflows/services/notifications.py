"""Notifications: in-app notices (the bell) and the batched email that follows them.

- The engine calls `notify_tasks_assigned` / `notify_tasks_ready` (through
  `workflows.services.tasks.notify`) when tasks are given to someone or become
  ready. A notice is never sent to the person who made the change: `by` when
  the caller knows it, else the signed-in person of the request (django-auditlog's
  actor).
- A scheduled job makes "due soon" (due within `DUE_SOON_DAYS` days) and
  "overdue" notices, at most one per task, person and kind: a partial unique
  constraint on Notification, so reruns and concurrent runs insert nothing twice.
- A scheduled job emails each person one digest of their unread notices not
  emailed yet, at most once every `DIGEST_INTERVAL` per firm. Notices are
  claimed with one `UPDATE ... SET emailed_at = now() WHERE ... AND emailed_at IS
  NULL RETURNING ...` inside the transaction that sends the email: a second
  worker waits for that row lock and then finds nothing left to claim, and a
  failed send rolls the claim back so the next run tries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from auditlog.context import auditlog_value
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.overdue import overdue_q
from advisoros.row_urls import row_url
from advisoros.tenancy.models import Membership, Organization
from clients.models import Client
from workflows.models import (
    OPEN_STATUSES,
    Notification,
    Task,
    TaskComment,
)

Kind = Notification.Kind
DUE_SOON_DAYS = 2
DIGEST_INTERVAL = timedelta(hours=1)
# Unread notices older than this are not worth an email any more.
EMAIL_WINDOW = timedelta(days=7)


def _actor_id(by: User | None) -> int | None:
    """Who made the change: `by`, else the request's signed-in person."""
    if by is not None:
        return by.pk
    try:
        actor = auditlog_value.get().get("actor")
    except LookupError:
        return None
    return (
        getattr(actor, "pk", None)
        if getattr(actor, "is_authenticated", False)
        else None
    )


def _notices(kind: str, tasks: Iterable[Task], by: User | None) -> list[Notification]:
    actor = _actor_id(by)
    tasks = [t for t in tasks if t.assignee_id is not None and t.assignee_id != actor]
    if not tasks:
        return []
    org_id = tasks[0].organization_id
    # Query: the firm's slug for the links.
    slug = Organization.objects.values_list("slug", flat=True).get(pk=org_id)
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)
    names = _client_names(tasks)
    return [
        Notification(
            organization_id=task.organization_id,
            user_id=task.assignee_id,
            kind=kind,
            task=task,
            title=_title(task, names),
            url=task_url(task.uuid),
        )
        for task in tasks
    ]


def _client_names(tasks: list[Task]) -> dict[int, str]:
    """Client names, from the tasks' loaded clients or (one query) the database."""
    names = {
        t.client_id: t.client.display_name
        for t in tasks
        if t.client_id and Task.client.is_cached(t)
    }
    missing = {t.client_id for t in tasks if t.client_id and t.client_id not in names}
    if missing:
        names.update(
            Client.objects.filter(
                organization_id=tasks[0].organization_id, pk__in=missing
            ).values_list("pk", "display_name")
        )
    return names


def _title(task: Task, names: dict[int, str]) -> str:
    client = names.get(task.client_id)
    return (f"{task.title} – {client}" if client else task.title)[:200]


def notify_tasks_assigned(tasks: Iterable[Task], *, by: User | None = None) -> int:
    """ "Assigned to you" for each task's assignee (one insert)."""
    notices = _notices(Kind.ASSIGNED, tasks, by)
    Notification.objects.bulk_create(notices)
    return len(notices)


def notify_tasks_ready(tasks: Iterable[Task], *, by: User | None = None) -> int:
    """ "Ready to start" for each task's assignee (one insert)."""
    notices = _notices(Kind.READY, tasks, by)
    Notification.objects.bulk_create(notices, batch_size=5000)
    return len(notices)


def notify_task_comment(comment: TaskComment) -> int:
    """ "New comment" for the people following the task: its assignee and
    everyone who commented on it before, except the comment's author and
    anyone no longer an active member of the firm (one query for the people,
    one insert)."""
    task = comment.task
    followers = set(
        TaskComment.objects.filter(organization_id=task.organization_id, task=task)
        .exclude(author_id=None)
        .values_list("author_id", flat=True)
    )
    if task.assignee_id is not None:
        followers.add(task.assignee_id)
    followers.discard(comment.author_id)
    if not followers:
        return 0
    active = set(
        Membership.objects.filter(
            organization_id=task.organization_id,
            user_id__in=followers,
            is_active=True,
        ).values_list("user_id", flat=True)
    )
    if not active:
        return 0
    slug = Organization.objects.values_list("slug", flat=True).get(
        pk=task.organization_id
    )
    author = comment.author.name or comment.author.email if comment.author else ""
    excerpt = " ".join(comment.body.split())
    title = f"{author} on {_title(task, _client_names([task]))}: {excerpt}"
    url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)(task.uuid)
    Notification.objects.bulk_create(
        Notification(
            organization_id=task.organization_id,
            user_id=user_id,
            kind=Kind.COMMENT,
            task=task,
            title=title[:197] + "…" if len(title) > 200 else title,
            url=f"{url}#comments",
        )
        for user_id in sorted(active)
    )
    return len(active)


def unread_notification_count(*, membership: Membership) -> int:
    """The bell's number: one count on the (organization, user, read_at) index."""
    return Notification.objects.filter(
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        read_at__isnull=True,
    ).count()


# Due soon and overdue ----------------------------------------------------------------


def _due_notices(
    organization: Organization, kind: str, due: Q, task_url
) -> list[Notification]:
    already = Notification.objects.filter(
        organization=organization,
        task=OuterRef("pk"),
        user=OuterRef("assignee"),
        kind=kind,
    )
    # Query: the open, assigned tasks in the window without this notice yet.
    tasks = list(
        Task.objects.filter(due, organization=organization, assignee__isnull=False)
        .exclude(Exists(already))
        .select_related("client")
        .only("uuid", "title", "assignee_id", "due_date", "client__display_name")
        .order_by("due_date", "pk")
    )
    names = {t.client_id: t.client.display_name for t in tasks if t.client_id}
    return [
        Notification(
            organization=organization,
            user_id=task.assignee_id,
            kind=kind,
            task=task,
            title=_title(task, names),
            url=task_url(task.uuid),
        )
        for task in tasks
    ]


@transaction.atomic
def task_due_notifications_create(*, organization: Organization, today: date) -> int:
    """Due-soon and overdue notices for the firm's open tasks, once per task, person
    and kind. Returns how many were made (0 on a rerun)."""
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=organization.slug)
    due_soon = Q(
        status__in=OPEN_STATUSES,
        due_date__gte=today,
        due_date__lte=today + timedelta(DUE_SOON_DAYS),
    )
    overdue = overdue_q(today, OPEN_STATUSES)
    notices = _due_notices(
        organization, Kind.DUE_SOON, due_soon, task_url
    ) + _due_notices(organization, Kind.OVERDUE, overdue, task_url)
    # Query: insert them; a notice another run just made is skipped by the
    # partial unique constraint (ON CONFLICT DO NOTHING).
    Notification.objects.bulk_create(notices, ignore_conflicts=True, batch_size=5000)
    return len(notices)


# Email digests ----------------------------------------------------------------------

_CLAIM_SQL = """
UPDATE workflows_notification
   SET emailed_at = %(now)s
 WHERE organization_id = %(org)s
   AND user_id = %(user)s
   AND emailed_at IS NULL
   AND read_at IS NULL
   AND created_at >= %(since)s
RETURNING kind, title, url, created_at
"""


def _claim(organization: Organization, user_id: int, now, since) -> list[dict]:
    """Mark the person's waiting notices emailed and return them, atomically."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {"now": now, "org": organization.pk, "user": user_id, "since": since},
        )
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _recipients(organization: Organization, now) -> list[User]:
    since = now - EMAIL_WINDOW
    waiting = Notification.objects.filter(
        organization=organization,
        user=OuterRef("user"),
        emailed_at__isnull=True,
        read_at__isnull=True,
        created_at__gte=since,
    )
    emailed_lately = Notification.objects.filter(
        organization=organization,
        user=OuterRef("user"),
        emailed_at__gt=now - DIGEST_INTERVAL,
    )
    # Query: the active members with notices waiting and no digest in the interval.
    return [
        m.user
        for m in Membership.objects.filter(organization=organization, is_active=True)
        .filter(Exists(waiting))
        .exclude(Exists(emailed_lately))
        .select_related("user")
        .order_by("pk")
    ]


def notifications_email_send(*, organization: Organization) -> int:
    """Email each member one digest of their unread, un-emailed notices (at most one
    every DIGEST_INTERVAL). Returns how many emails were sent."""
    now = timezone.now()
    since = now - EMAIL_WINDOW
    kinds = dict(Kind.choices)
    site = settings.SITE_URL.rstrip("/")
    sent = 0
    for user in _recipients(organization, now):
        with transaction.atomic():
            notices = _claim(organization, user.pk, now, since)
            if not notices:
                continue  # another worker was quicker
            notices.sort(key=lambda n: n["created_at"])
            for notice in notices:
                notice["kind_label"] = kinds.get(notice["kind"], notice["kind"])
                notice["link"] = site + notice["url"] if notice["url"] else ""
            count = len(notices)
            ctx = {
                "user": user,
                "organization": organization,
                "notices": notices,
                "count": count,
                "link": site
                + reverse("workflows:notifications", args=[organization.slug]),
            }
            send_mail(
                subject=(
                    f"{organization.name}: {count} update{'s' if count > 1 else ''}"
                    " on your work"
                ),
                message=render_to_string(
                    "workflows/email/notifications_digest.txt", ctx
                ),
                from_email=None,
                recipient_list=[user.email],
            )
        sent += 1
    return sent
