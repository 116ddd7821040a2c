"""Background jobs run inside their firm's context, and leave none behind."""

from __future__ import annotations

import pytest
from django.db import connection
from django_q.models import Task
from django_q.tasks import async_task, result

from advisoros.tenancy.models import Membership, Organization
from advisoros.tenancy.tasks import enqueue_for_organization, run_in_organization

JOB = "tests.tenancy.test_tasks.report_context"


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.organization_id', true)")
        return cursor.fetchone()[0]


def report_context(*, organization: Organization, **kwargs) -> dict:
    """A job that reports what it can see."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_membership")
        raw_count = cursor.fetchone()[0]
    return {
        "organization_id": organization.pk,
        "setting": _setting(),
        "scoped_count": Membership.objects.count(),
        "raw_count": raw_count,
        "kwargs": kwargs,
    }


def failing_job(*, organization: Organization) -> None:
    raise RuntimeError("the job failed")


@pytest.mark.parametrize(("firm", "members"), [("alpha", 5), ("beta", 1)])
def test_a_job_runs_in_its_firms_context(cast, firm, members):
    organization = getattr(cast, firm)

    seen = run_in_organization(JOB, organization.pk, {"invoice_id": 7})

    assert seen == {
        "organization_id": organization.pk,
        "setting": str(organization.pk),
        "scoped_count": members,  # django-scopes' wall
        "raw_count": members,  # the database's wall, under raw SQL
        "kwargs": {"invoice_id": 7},
    }
    assert _setting() == ""


def test_the_context_is_cleared_even_when_the_job_fails(cast):
    with pytest.raises(RuntimeError):
        run_in_organization("tests.tenancy.test_tasks.failing_job", cast.alpha.pk, {})

    assert _setting() == ""


def test_a_queued_job_goes_through_django_q_in_its_firm(cast):
    task_id = async_task(
        "advisoros.tenancy.tasks.run_in_organization", JOB, cast.beta.pk, {}
    )

    seen = result(task_id)
    assert seen["setting"] == str(cast.beta.pk)
    assert seen["raw_count"] == 1
    assert _setting() == ""


def test_a_job_is_queued_only_when_the_transaction_commits(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_for_organization(JOB, cast.alpha, note="after commit")
    assert not Task.objects.exists()

    for callback in callbacks:
        callback()

    [task] = Task.objects.all()
    assert task.success
    assert task.args == (JOB, cast.alpha.pk, {"note": "after commit"})
    assert task.result["setting"] == str(cast.alpha.pk)
    assert task.result["scoped_count"] == 5
