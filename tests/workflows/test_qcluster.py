"""A real django-q2 cluster: a worker process runs firm jobs from the ORM queue.

Everything else in the suite runs django-q2 in sync mode; these tests start
`manage.py qcluster` as a subprocess on the test database, with the production
settings module (not sync), and watch what it stores: the default cluster, and
the OCR cluster (`Q_CLUSTER_NAME=ocr`) with its queue of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_q.models import OrmQ
from django_q.models import Task as QTask
from django_q.tasks import async_task

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import JobFailure, Membership, Organization
from advisoros.tenancy.tasks import (
    ADAPTER,
    enqueue_for_organization,
    enqueue_later,
    job_cluster,
    job_retry,
)
from clients.services.clients import client_create
from documents.models import Document, OcrStatus
from documents.services.ocr import OCR_JOB
from tests.documents import scans

REPORT = "tests.workflows.test_qcluster.report_context"
FAILING = "tests.workflows.test_qcluster.always_failing"
QUEUE_A_REPORT = "tests.workflows.test_qcluster.queue_a_report"


def report_context(*, organization: Organization, note: str) -> dict:
    """Report what the worker sees: its firm's setting and rows under both walls."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.organization_id', true),"
            " (SELECT count(*) FROM tenancy_membership)"
        )
        setting, raw_count = cursor.fetchone()
    return {
        "note": note,
        "setting": setting,
        "scoped_count": Membership.objects.count(),
        "raw_count": raw_count,
        "pid": os.getpid(),
    }


@job_retry(attempts=3, backoff_seconds=1)  # retries after 1 s, then 2 s
def always_failing(*, organization: Organization, ledger_id: int) -> None:
    raise RuntimeError(f"ledger {ledger_id} is offline")


def _database_url() -> str:
    db = connection.settings_dict  # the test database of this run
    user = quote(db["USER"], safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}:{password}@/{db['NAME']}?host={host}"
    return f"postgresql://{user}:{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_qcluster(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Start `manage.py qcluster` on the test database (`Q_CLUSTER_NAME=...` in
    `env` for another cluster than the default); returns the path of its log.
    Every cluster started is stopped at the end of the test."""
    processes: list[subprocess.Popen] = []

    def start(**env: str) -> Path:
        log_path = tmp_path / f"qcluster-{len(processes)}.log"
        base = {k: v for k, v in os.environ.items() if k != "Q_CLUSTER_NAME"}
        with log_path.open("wb") as log:
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [sys.executable, "manage.py", "qcluster"],
                    cwd=settings.BASE_DIR,
                    env={
                        **base,
                        "DJANGO_SETTINGS_MODULE": "advisoros.settings",  # not sync
                        "DJANGO_DEBUG": "true",
                        "DATABASE_URL": _database_url(),
                        "Q_WORKERS": "1",
                        "Q_OCR_WORKERS": "1",
                        "DB_CONN_MAX_AGE": "0",
                        **env,
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: workers included
                )
            )
        return log_path

    try:
        yield start
    finally:
        for process in processes:
            _stop(process)


@pytest.fixture
def qcluster(start_qcluster) -> Path:
    """The default cluster, started; yields the path of its log."""
    return start_qcluster()


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to the whole group: qcluster can hang on SIGTERM."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=8)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stray workers, if any
    process.wait(timeout=5)


def _wait_for(condition: Callable[[], object], log_path: Path, timeout: float = 20):
    """Poll `condition` every 0.2 s until it is truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    log = log_path.read_text(errors="replace")[-4000:]
    pytest.fail(f"the cluster did not get there in {timeout} s; its log:\n{log}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_firm_jobs_and_retries_a_failing_one_until_it_fails(
    cast, qcluster
):
    # Queued the way the cluster receives work (the suite's own settings are sync).
    ok_id = async_task(ADAPTER, REPORT, cast.beta.pk, {"note": "hello"}, sync=False)
    async_task(ADAPTER, FAILING, cast.alpha.pk, {"ledger_id": 7}, sync=False)

    # The first wait includes the cluster's start (a few seconds on 2 cores).
    ran = _wait_for(
        lambda: QTask.objects.filter(id=ok_id).first(), qcluster, timeout=30
    )
    assert ran.success
    assert ran.result["note"] == "hello"
    assert ran.result["pid"] != os.getpid()  # another process ran it
    # Both walls were set for Beta in the worker: its one member, also by raw SQL.
    assert ran.result["setting"] == str(cast.beta.pk)
    assert ran.result["scoped_count"] == ran.result["raw_count"] == 1

    def failure_recorded():
        with tenant_context(cast.alpha):
            return JobFailure.objects.filter(organization=cast.alpha).first()

    failure = _wait_for(failure_recorded, qcluster)
    assert failure.func == FAILING
    assert failure.attempts == 3
    assert failure.kwargs == {"ledger_id": 7}
    assert "RuntimeError: ledger 7 is offline" in failure.error
    # django-q2 stored each of the three tries as a failed task, one retry after
    # the other (the retries waited in the queue for their backoff).
    tries = _wait_for(
        lambda: (
            list(QTask.objects.filter(success=False).order_by("stopped"))
            if QTask.objects.filter(success=False).count() == 3
            else None
        ),
        qcluster,
    )
    assert [t.args[3] if len(t.args) > 3 else 1 for t in tries] == [1, 2, 3]
    assert all("ledger 7 is offline" in t.result for t in tries)
    # (`started` is when django-q2 queued a try; each retry is queued during the
    # try before, locked until its backoff has passed.)
    assert (tries[1].stopped - tries[0].stopped).total_seconds() >= 0.9
    assert (tries[2].stopped - tries[1].stopped).total_seconds() >= 1.9
    # Nothing left to run (the monitor acknowledges a try just after saving it).
    _wait_for(lambda: not OrmQ.objects.exists(), qcluster, timeout=5)
    with tenant_context(cast.beta):
        assert not JobFailure.objects.filter(organization=cast.beta).exists()


def _stored_task(func: str) -> Callable[[], QTask | None]:
    """The stored django-q2 task that ran firm job `func`, once there is one."""
    return lambda: next((t for t in QTask.objects.all() if t.args[0] == func), None)


@job_cluster("ocr")
def queue_a_report(*, organization: Organization, note: str) -> str:
    """An OCR-cluster job that queues a default-cluster job, as OCR may one day."""
    enqueue_for_organization(REPORT, organization, note=note)
    return "queued"


@pytest.mark.django_db(transaction=True)
def test_an_ocr_job_waits_in_the_ocr_queue_and_the_ocr_cluster_runs_it(
    cast, start_qcluster, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with tenant_context(cast.alpha):
        client = client_create(
            organization=cast.alpha, data={"display_name": "Jane Doe"}
        )
    # The upload's own OCR ran at once (the suite is sync); read it again here.
    document = scans.scan_document(
        client, scans.text_layer_pdf(), filename="statement.pdf"
    )
    with tenant_context(cast.alpha):
        Document.objects.filter(pk=document.pk).update(
            ocr_status=OcrStatus.PENDING, ocr_text="", ocr_pages_done=0
        )
    QTask.objects.all().delete()  # that run's record
    # Queued as a retry is (always through the queue, even in the sync suite);
    # first runs and retries take the same way to the job's cluster.
    enqueue_later(
        (OCR_JOB, cast.alpha.pk, {"document_id": document.pk}, 1), delay_seconds=0
    )
    enqueue_later(
        (QUEUE_A_REPORT, cast.alpha.pk, {"note": "from ocr"}, 1), delay_seconds=0
    )
    assert sorted(OrmQ.objects.values_list("key", flat=True)) == ["ocr", "ocr"]

    log = start_qcluster(Q_CLUSTER_NAME="ocr", MEDIA_ROOT=settings.MEDIA_ROOT)

    ocr = _wait_for(_stored_task(OCR_JOB), log, timeout=30)
    assert ocr.success, ocr.result
    assert ocr.cluster == "ocr"  # the cluster that ran it (django-q2 records it)
    assert ocr.result == "done"
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.COMPLETED, document.ocr_error
    assert "Riverside Savings Bank" in document.ocr_text
    # A default job queued from the OCR worker goes to the default queue, where
    # the OCR cluster leaves it.
    assert _wait_for(_stored_task(QUEUE_A_REPORT), log).result == "queued"
    # The worker saves a result before the broker deletes the package it ran.
    _wait_for(lambda: not OrmQ.objects.filter(key="ocr").exists(), log)
    [package] = OrmQ.objects.all()
    assert package.key == "advisoros"
    assert package.task["args"][0] == REPORT
