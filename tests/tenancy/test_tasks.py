"""Background jobs run inside their firm's context, and leave none behind."""

from __future__ import annotations

import pytest
from django.db import connection
from django_q.models import OrmQ, Task
from django_q.tasks import async_task, result

from advisoros.tenancy.models import Membership, Organization
from advisoros.tenancy.tasks import (
    enqueue_for_organization,
    enqueue_for_organizations,
    job_cluster,
    run_in_organization,
)

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


@job_cluster("ocr")
def ocr_report(*, organization: Organization, **kwargs) -> dict:
    return report_context(organization=organization, **kwargs)


@job_cluster("ocr")
def failing_ocr_job(*, organization: Organization) -> None:
    raise RuntimeError("the scan is unreadable")


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


def test_a_schedule_queues_one_job_per_firm_when_the_transaction_commits(
    cast, django_capture_on_commit_callbacks
):
    gone = 10**9  # a firm deleted since it was listed

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = enqueue_for_organizations(
            JOB, [cast.beta.pk, cast.alpha.pk, gone, cast.alpha.pk]
        )
    assert queued == 2
    assert not Task.objects.exists()

    for callback in callbacks:
        callback()

    seen = {task.args[1]: task.result for task in Task.objects.all() if task.success}
    assert seen.keys() == {cast.alpha.pk, cast.beta.pk}
    for organization in (cast.alpha, cast.beta):  # each in its own firm
        assert seen[organization.pk]["setting"] == str(organization.pk)
        assert seen[organization.pk]["kwargs"] == {}


def test_a_job_runs_in_the_cluster_it_declares_and_is_retried_there(cast):
    with pytest.raises(RuntimeError):
        run_in_organization(
            "tests.tenancy.test_tasks.failing_ocr_job", cast.alpha.pk, {}
        )
    with pytest.raises(RuntimeError):
        run_in_organization("tests.tenancy.test_tasks.failing_job", cast.alpha.pk, {})

    retries = {q.task["args"][0].rsplit(".", 1)[1]: q for q in OrmQ.objects.all()}
    # Named explicitly, the default too: a job queued from an OCR worker must
    # not land in the OCR queue (django-q2's "no name" is the worker's own).
    assert retries["failing_ocr_job"].key == "ocr"
    assert retries["failing_ocr_job"].task["cluster"] == "ocr"
    assert retries["failing_job"].key == "advisoros"
    assert retries["failing_job"].task["cluster"] == "advisoros"


def test_a_job_is_queued_to_its_cluster_on_commit(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_for_organization(JOB, cast.alpha)
        enqueue_for_organizations("tests.tenancy.test_tasks.ocr_report", [cast.beta.pk])

    clusters = {
        task.args[0].rsplit(".", 1)[1]: task.cluster for task in Task.objects.all()
    }
    assert clusters == {"report_context": "advisoros", "ocr_report": "ocr"}
