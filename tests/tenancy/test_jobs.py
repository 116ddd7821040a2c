"""Firm jobs are retried with backoff, then listed as failed with a Retry button."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ
from django_q.models import Task as QTask
from django_q.tasks import async_task

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import JobFailure, Organization
from advisoros.tenancy.tasks import (
    ADAPTER,
    enqueue_for_organization,
    job_retry,
    run_in_organization,
)

FAILING = "tests.tenancy.test_jobs.ledger_sync"
ONCE_ONLY = "tests.tenancy.test_jobs.one_try_job"
SUCCEEDING = "tests.tenancy.test_jobs.echo_job"


def ledger_sync(*, organization: Organization, ledger_id: int) -> None:
    """Synchronise the ledger with QuickBooks"""
    raise RuntimeError(f"ledger {ledger_id} is offline")


@job_retry(attempts=1)
def one_try_job(*, organization: Organization, **kwargs) -> None:
    raise ValueError("a person should look first")


def echo_job(*, organization: Organization, **kwargs) -> dict:
    return {"organization_id": organization.pk, **kwargs}


def _run_due_retries() -> int:
    """Hand the queued retries to django-q2 (sync mode here), as a worker would
    once their lock has passed. Returns how many ran."""
    packages = list(OrmQ.objects.order_by("id"))
    for package in packages:
        task = package.task
        package.delete()
        with suppress(RuntimeError):  # each failed try raises, as in a worker
            async_task(task["func"], *task["args"], sync=True)
    return len(packages)


def _failures(organization: Organization):
    with tenant_context(organization):
        return list(JobFailure.objects.filter(organization=organization))


def _failure(organization: Organization, func: str = FAILING, **fields) -> JobFailure:
    with tenant_context(organization):
        return JobFailure.objects.create(
            organization=organization,
            func=func,
            kwargs={"ledger_id": 7},
            attempts=3,
            error="Traceback (most recent call last):\nRuntimeError: ledger 7 is offline",
            **fields,
        )


def test_a_job_that_raises_is_retried_with_backoff_then_recorded_as_failed(cast):
    with pytest.raises(RuntimeError, match="ledger 7 is offline"):
        run_in_organization(FAILING, cast.alpha.pk, {"ledger_id": 7})

    [retry] = OrmQ.objects.all()
    assert retry.task["func"] == ADAPTER
    assert retry.task["args"] == (FAILING, cast.alpha.pk, {"ledger_id": 7}, 2)
    wait = retry.lock - timezone.now()
    assert timedelta(seconds=55) < wait <= timedelta(seconds=60)  # the first backoff
    assert _failures(cast.alpha) == []

    assert _run_due_retries() == 1  # the second try fails: one more retry, later
    [second_retry] = OrmQ.objects.all()
    assert second_retry.task["args"][3] == 3
    wait = second_retry.lock - timezone.now()
    assert timedelta(seconds=115) < wait <= timedelta(seconds=120)  # doubled

    assert _run_due_retries() == 1  # the last try fails for good
    assert not OrmQ.objects.exists()
    [failure] = _failures(cast.alpha)
    assert failure.func == FAILING
    assert failure.kwargs == {"ledger_id": 7}
    assert failure.attempts == 3
    assert "RuntimeError: ledger 7 is offline" in failure.error
    assert "Traceback" in failure.error
    assert failure.resolved_at is None
    assert _failures(cast.beta) == []


def test_a_job_that_asks_for_one_try_fails_for_good_at_once(cast):
    with pytest.raises(ValueError):
        run_in_organization(ONCE_ONLY, cast.beta.pk, {})

    assert not OrmQ.objects.exists()
    [failure] = _failures(cast.beta)
    assert failure.attempts == 1
    assert "a person should look first" in failure.error


def test_a_succeeding_job_records_nothing(cast):
    assert run_in_organization(SUCCEEDING, cast.alpha.pk, {"n": 1}) == {
        "organization_id": cast.alpha.pk,
        "n": 1,
    }
    assert not OrmQ.objects.exists()
    assert _failures(cast.alpha) == []


def test_owners_and_admins_see_the_open_failures_with_the_error(cast, login_as):
    _failure(cast.alpha)
    _failure(cast.alpha, resolved_at=timezone.now(), func=SUCCEEDING)
    _failure(cast.beta, func=ONCE_ONLY)

    response = login_as(cast.adam).get("/o/alpha/jobs/failed/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="job-failure"') == 1
    assert "Synchronise the ledger with QuickBooks" in page  # the job's docstring
    assert "RuntimeError: ledger 7 is offline" in page
    assert "one_try_job" not in page  # Beta's
    assert ">Retry</button>" in page and ">Dismiss</button>" in page


def test_the_list_makes_the_same_number_of_queries_for_1_or_40_failures(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.adam)
    url = "/o/alpha/jobs/failed/"
    client.get(url)  # the first request also writes the session
    for count in (1, 39):
        for _ in range(count):
            _failure(cast.alpha)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of open failures, 6 reset
        # the RLS context.
        with django_assert_num_queries(6):
            response = client.get(url)
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 25
    assert response.context["page"].has_next


def test_the_page_says_when_nothing_failed(cast, login_as):
    response = login_as(cast.alice).get("/o/alpha/jobs/failed/")

    assert 'data-testid="job-failures-empty"' in response.content.decode()


@pytest.mark.parametrize("member", ["sam", "rita"])
def test_staff_and_read_only_members_cannot_see_failed_jobs(cast, login_as, member):
    response = login_as(getattr(cast, member)).get("/o/alpha/jobs/failed/")

    assert response.status_code == 403


def test_retry_queues_the_same_job_again_and_marks_who_retried(
    cast, login_as, django_capture_on_commit_callbacks
):
    failure = _failure(cast.alpha, func=SUCCEEDING)
    client = login_as(cast.alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/alpha/jobs/failed/{failure.uuid}/retry/")

    assert response.status_code == 302
    assert response.url == "/o/alpha/jobs/failed/"
    with tenant_context(cast.alpha):
        failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert failure.retried_by == cast.alice
    [task] = QTask.objects.all()  # run by django-q2 (sync mode in tests)
    assert task.func == ADAPTER
    assert task.args == (SUCCEEDING, cast.alpha.pk, {"ledger_id": 7})
    assert task.success
    assert task.result == {"organization_id": cast.alpha.pk, "ledger_id": 7}
    page = client.get(response.url).content.decode()
    assert "is queued again" in page
    assert 'data-testid="job-failures-empty"' in page


def test_a_second_retry_click_queues_nothing_more(
    cast, login_as, django_capture_on_commit_callbacks
):
    failure = _failure(cast.alpha, func=SUCCEEDING)
    client = login_as(cast.alice)
    url = f"/o/alpha/jobs/failed/{failure.uuid}/retry/"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
        response = client.post(url, follow=True)

    assert QTask.objects.count() == 1
    assert "already retried or dismissed" in response.content.decode()


def test_a_retried_job_that_fails_again_comes_back_to_the_list(
    cast, login_as, django_capture_on_commit_callbacks
):
    failure = _failure(cast.alpha, func=ONCE_ONLY)
    client = login_as(cast.alice)

    with (
        pytest.raises(ValueError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(f"/o/alpha/jobs/failed/{failure.uuid}/retry/")

    open_failures = [f for f in _failures(cast.alpha) if f.resolved_at is None]
    assert [f.func for f in open_failures] == [ONCE_ONLY]
    assert open_failures[0].pk != failure.pk


def test_dismiss_closes_a_failure_without_running_it(
    cast, login_as, django_capture_on_commit_callbacks
):
    failure = _failure(cast.alpha)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = login_as(cast.adam).post(
            f"/o/alpha/jobs/failed/{failure.uuid}/dismiss/"
        )

    assert response.status_code == 302
    assert callbacks == []
    assert not QTask.objects.exists()
    with tenant_context(cast.alpha):
        failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert failure.retried_by is None


def test_another_firms_failure_is_not_found(cast, login_as):
    failure = _failure(cast.alpha)
    client = login_as(cast.oscar)

    for action in ("retry", "dismiss"):
        response = client.post(f"/o/beta/jobs/failed/{failure.uuid}/{action}/")
        assert response.status_code == 404
    with tenant_context(cast.alpha):
        failure.refresh_from_db()
    assert failure.resolved_at is None


def test_a_read_only_member_cannot_retry(cast, login_as):
    failure = _failure(cast.alpha)

    response = login_as(cast.rita).post(f"/o/alpha/jobs/failed/{failure.uuid}/retry/")

    assert response.status_code == 403


def test_enqueue_for_organization_still_takes_the_old_arguments(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_for_organization(SUCCEEDING, cast.beta, note="hi")

    [task] = QTask.objects.all()
    assert task.args == (SUCCEEDING, cast.beta.pk, {"note": "hi"})
    assert task.result == {"organization_id": cast.beta.pk, "note": "hi"}
