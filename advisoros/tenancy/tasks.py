"""Background jobs run in their firm's context: ids in, scope and RLS set, service called.

Every firm job goes through `run_in_organization`, which also owns retries:

- A job that raises (or overruns django-q2's timeout) is tried again later, with
  backoff: `backoff_seconds * 2 ** (attempt - 1)` (60 s, then 120 s by default),
  up to `attempts` tries in all (3 by default). A job may set its own policy with
  `@job_retry(attempts=..., backoff_seconds=...)`.
- After the last failed try the adapter records a `JobFailure` in the firm (owners
  and admins see it on the failed-jobs page, with a Retry button).
- Every failed try still raises, so django-q2 stores it as a failed task too.

django-q2 does not do this by itself: with `ack_failures` on, a task that raises is
acknowledged and never run again; its own `retry` only re-delivers a task whose
worker vanished without a result (the ORM broker's lock, or the Redis queue's
in-flight deadline, expires after `retry` seconds). Such a redelivery runs the
same attempt again.

Queues: a job runs in django-q2's default cluster unless it declares another
with `@job_cluster(name)` (one of `Q_CLUSTER["ALT_CLUSTERS"]`, each served by a
`qcluster` started with `Q_CLUSTER_NAME=<name>`, with its own workers and
timeout). Every way a job is queued (first run, retries, the Retry button) goes
to the queue it declares, named explicitly: a job queued from a worker of
another cluster still lands in its own queue.

Because a job may run more than once (a retry, a redelivery after a lost worker, a
person pressing Retry), **a job body must be idempotent**: check the state before
acting (an invitation already sent, an execution already created) and let
database constraints refuse duplicates. Job kwargs must be plain JSON values
(ids, strings, numbers): they are stored with the failure and replayed from it.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.exceptions import TimeoutException
from django_q.models import Schedule
from django_q.tasks import async_task

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Invitation, JobFailure, Organization
from advisoros.tenancy.redis_queue import DelayedRedisQueue
from advisoros.tenancy.tokens import invitation_token

logger = logging.getLogger(__name__)

ADAPTER = "advisoros.tenancy.tasks.run_in_organization"
# The broker class of Q_CLUSTER when Q_REDIS_URL is set (settings).
REDIS_QUEUE = "advisoros.tenancy.redis_queue.RedisQueue"
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_SECONDS = 60
ERROR_LINES = 20  # the traceback's last lines kept on a JobFailure


def job_retry(
    *, attempts: int = DEFAULT_ATTEMPTS, backoff_seconds: int = DEFAULT_BACKOFF_SECONDS
):
    """Set a job's retry policy: `attempts` tries in all, the first retry after
    `backoff_seconds`, each next one after twice as long. `attempts=1` never retries
    (a job whose failure a person should look at first)."""

    def decorate(job: Callable) -> Callable:
        job.job_attempts = max(1, attempts)
        job.job_backoff_seconds = max(0, backoff_seconds)
        return job

    return decorate


def job_cluster(name: str):
    """Run a job in the django-q2 cluster `name` (a key of `Q_CLUSTER["ALT_CLUSTERS"]`)
    rather than the default one: a long job (OCR of a long scan) then never holds
    the queue that sends reminders and runs imports, and gets its own timeout."""

    def decorate(job: Callable) -> Callable:
        job.job_cluster = name
        return job

    return decorate


def cluster_of(func: str) -> str:
    """The cluster (queue) `func` runs in: its `@job_cluster`, else the default.

    Always a name, never None: django-q2 reads None as "this process's own
    cluster", which in an OCR worker is the OCR queue.
    """
    try:
        job = import_string(func)
    except ImportError:
        job = None  # a job renamed since: the worker reports it, as it always did
    return getattr(job, "job_cluster", None) or Conf.PREFIX


def enqueue_for_organization(func: str, organization: Organization, **kwargs) -> None:
    """Queue `func` to run in `organization`'s context once the transaction commits."""
    _enqueue_on_commit(func, organization.pk, kwargs)


def enqueue_for_organizations(
    func: str, organization_ids: Iterable[int], *, include_deactivated: bool = False
) -> int:
    """Queue `func` once for each firm, on commit: how a cross-firm schedule hands
    out its work. Each firm's run then has its own context, retries, timeout and,
    when it fails for good, a line on that firm's failed-jobs page. Ids of firms
    that no longer exist are skipped, and so are deactivated firms (read-only:
    advisoros.tenancy.offboarding) unless `include_deactivated`. Returns how
    many firms were queued."""
    firms = Organization.objects.filter(pk__in=set(organization_ids))
    if not include_deactivated:
        firms = firms.filter(deactivated_at__isnull=True)
    ids = list(firms.order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        _enqueue_on_commit(func, organization_id, {})
    return len(ids)


def enqueue_with_record(func: str, organization: Organization, **kwargs) -> None:
    """Queue `func` for `organization` together with the row the caller is writing
    in an open transaction (`transaction.atomic`): a webhook's event and the job
    that processes it commit together, or neither does.

    With the database broker (ours by default) the job's row is written in that
    same transaction, so the pair costs one commit, not two, and no crash between
    them can lose the job. Another broker (Redis, in production) is outside the
    database: the job is queued once the transaction commits, as
    `enqueue_for_organization` does, never before (a worker would not find the
    row yet, or find it rolled back). A crash between the commit and the push,
    or Redis refusing the push, leaves the row without its job: the caller's
    record must then say it is still to be done, and a sweep of the caller's
    queue it again (integrations.stripe.tasks.stripe_events_requeue does for
    Stripe's events).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_with_record needs the caller's transaction")
    # Sync mode (the tests) runs a job as it is queued: after the commit, as a
    # worker would.
    if transaction.get_connection().alias == Conf.ORM and not Conf.SYNC:
        async_task(ADAPTER, func, organization.pk, kwargs, cluster=cluster_of(func))
    else:
        _enqueue_on_commit(func, organization.pk, kwargs)


def _enqueue_on_commit(func: str, organization_id: int, kwargs: dict) -> None:
    cluster = cluster_of(func)
    transaction.on_commit(
        lambda: async_task(ADAPTER, func, organization_id, kwargs, cluster=cluster)
    )


def run_in_organization(
    func: str, organization_id: int, kwargs: dict, attempt: int = 1
):
    """The adapter every firm job goes through: a job never runs outside its firm.

    `attempt` counts the tries (1 for the first); see the module's docstring.
    """
    job = import_string(func)
    organization = Organization.objects.get(pk=organization_id)
    with tenant_context(organization):
        try:
            return job(organization=organization, **kwargs)
        except (Exception, TimeoutException) as exc:
            # TimeoutException is django-q2's SystemExit for an overrun: retried too.
            _job_failed(job, func, organization, kwargs, attempt, exc)
            raise


def retry_delay_seconds(job: Callable, attempt: int) -> int:
    """How long to wait before the try after `attempt` (exponential backoff)."""
    base = getattr(job, "job_backoff_seconds", DEFAULT_BACKOFF_SECONDS)
    return base * 2 ** (attempt - 1)


def _job_failed(
    job: Callable,
    func: str,
    organization: Organization,
    kwargs: dict,
    attempt: int,
    exc: BaseException,
) -> None:
    attempts = getattr(job, "job_attempts", DEFAULT_ATTEMPTS)
    try:
        if attempt < attempts:
            delay = retry_delay_seconds(job, attempt)
            logger.warning(
                "Job %s of firm %s failed (try %s of %s); again in %s s: %s",
                func,
                organization.pk,
                attempt,
                attempts,
                delay,
                exc,
            )
            enqueue_later(
                (func, organization.pk, kwargs, attempt + 1), delay_seconds=delay
            )
        else:
            logger.error(
                "Job %s of firm %s failed for good after %s tries: %s",
                func,
                organization.pk,
                attempt,
                exc,
            )
            with transaction.atomic():
                JobFailure.objects.create(
                    organization=organization,
                    func=func,
                    kwargs=_json_values(kwargs),
                    attempts=attempt,
                    error=_error_text(exc),
                )
    except Exception:
        # The job's own error is what matters (it is raised next); this one is
        # logged so the lost retry or record is not silent.
        logger.exception("Could not schedule a retry or record the failure of %s", func)


class _DelayedORM(ORM):
    """The ORM broker, putting the package in the queue locked until `not_before`.

    The ORM broker hands out only packages whose lock has passed (its `dequeue`),
    so a future lock is an exact delay, taken within one `poll` after it passes.
    """

    def __init__(self, *, not_before, list_key: str | None = None):
        super().__init__(list_key=list_key)
        self.not_before = not_before

    def enqueue(self, task):
        package = self.get_connection().create(
            key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=self.not_before
        )
        return package.pk


def enqueue_later(args: tuple, *, delay_seconds: int) -> None:
    """Queue `run_in_organization(*args)` to run no sooner than `delay_seconds` from
    now, in the cluster the job declares.

    Always through the queue, even in django-q2's sync mode (tests): a retry
    never runs inside the failing try. With the ORM broker the package waits in
    the queue, locked; with Redis (advisoros.tenancy.redis_queue) in a delayed
    set; with any other broker a one-off Schedule (the scheduler looks about
    every 30 s) creates the task when it is due.
    """
    not_before = timezone.now() + timedelta(seconds=delay_seconds)
    cluster = cluster_of(args[0])
    if Conf.ORM:
        broker = _DelayedORM(not_before=not_before, list_key=cluster)
        async_task(ADAPTER, *args, broker=broker, cluster=cluster, sync=False)
        return
    if Conf.BROKER_CLASS == REDIS_QUEUE:
        broker = DelayedRedisQueue(not_before=not_before, list_key=cluster)
        async_task(ADAPTER, *args, broker=broker, cluster=cluster, sync=False)
        return
    Schedule.objects.create(
        name=f"retry {args[0]} #{args[3]}"[:100],
        func=ADAPTER,
        cluster=cluster,
        args=repr(args),  # read back with ast.literal_eval: plain values only
        schedule_type=Schedule.ONCE,
        repeats=-1,  # a ONCE schedule is deleted after it has run
        next_run=not_before,
    )


def _json_values(kwargs: dict) -> dict:
    return json.loads(json.dumps(kwargs, cls=DjangoJSONEncoder))


def _error_text(exc: BaseException) -> str:
    lines = "".join(traceback.format_exception(exc)).rstrip().splitlines()
    return "\n".join(lines[-ERROR_LINES:])


def job_failure_retry(*, failure: JobFailure, by) -> None:
    """Queue a failed job again with its kwargs (a fresh set of tries) and mark the
    failure resolved by `by`."""
    with transaction.atomic():
        locked = JobFailure.objects.select_for_update().get(pk=failure.pk)
        if locked.resolved_at is not None:
            return  # a second click, or a colleague was quicker: queued once only
        locked.resolved_at = timezone.now()
        locked.retried_by = by
        locked.save(update_fields=["resolved_at", "retried_by", "updated_at"])
        enqueue_for_organization(locked.func, locked.organization, **locked.kwargs)
    failure.refresh_from_db()


def job_failure_dismiss(*, failure: JobFailure) -> None:
    """Close a failure without running the job again (the audit log keeps who)."""
    with transaction.atomic():
        locked = JobFailure.objects.select_for_update().get(pk=failure.pk)
        if locked.resolved_at is None:
            locked.resolved_at = timezone.now()
            locked.save(update_fields=["resolved_at", "updated_at"])
    failure.refresh_from_db()


def invitation_send_email(*, organization: Organization, invitation_id: int) -> str:
    invitation = Invitation.objects.select_related("invited_by").get(pk=invitation_id)
    if not invitation.is_open:
        return "skipped: invitation no longer open"
    link = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:invitation_accept", args=[invitation_token(invitation)]
    )
    ctx = {"invitation": invitation, "organization": organization, "link": link}
    send_mail(
        subject=f"You're invited to join {organization.name} on AdvisorOS",
        message=render_to_string("tenancy/email/invitation.txt", ctx),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return f"sent to {invitation.email}"
