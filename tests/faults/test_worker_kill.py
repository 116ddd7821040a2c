"""`kill -9` of the django-q2 worker in the middle of a job: the job is handed
out again and its effect happens exactly once.

- OCR of a four-page scan, killed after a page or more was read (the document
  says PROCESSING, pages done between 1 and 3): the re-run resumes and the
  document ends with each page's text once (no doubled pages).
- A CSV client import, killed after it wrote its clients, contacts and their
  links (in its open transaction: PostgreSQL shows the worker's row locks) and
  before it committed: nothing of it is visible, the import is still queued,
  and the re-run imports every row once (no duplicated clients, one audit event).

The Stripe webhook's job has its case in test_webhook_worker_kill.py.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_q.models import OrmQ
from django_q.models import Task as QTask
from django_q.tasks import async_task

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.tasks import ADAPTER, enqueue_later
from clients.models import Client, ClientContact, ClientImport, Contact, ImportStatus
from clients.services.imports import client_import_create
from documents.demo_scans import scan_pdf
from documents.models import OcrStatus
from documents.ocr import PAGE_BREAK
from documents.services.ocr import OCR_JOB
from tests.factories import make_document
from tests.faults.workers import kill_worker_when, qcluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RETRY_SECONDS = "8"  # the broker hands a task out again this long after taking it


def _stored_results(func: str) -> list[QTask]:
    return [t for t in QTask.objects.all() if t.args[0] == func]


def test_ocr_killed_mid_document_is_retried_and_reads_each_page_once(
    cast, jane, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    markers = [
        f"Statement page marker {word}"
        for word in ("ALPHA", "BRAVO", "CHARLIE", "DELTA")
    ]
    pdf = scan_pdf(
        *[[marker, "Riverside Savings Bank", "Balance 1,000.00"] for marker in markers]
    )
    name = default_storage.save(
        f"private/{cast.alpha.pk}/documents/scan-{os.getpid()}", ContentFile(pdf)
    )
    document = make_document(
        jane,
        file=name,
        size=len(pdf),
        checksum=hashlib.sha256(pdf).hexdigest(),
        ocr_status=OcrStatus.PENDING,
    )
    enqueue_later(
        (OCR_JOB, cast.alpha.pk, {"document_id": document.pk}, 1), delay_seconds=0
    )

    def read_part_way() -> bool:
        with tenant_context(cast.alpha):
            document.refresh_from_db()
        return (
            document.ocr_status == OcrStatus.PROCESSING
            and 1 <= document.ocr_pages_done < len(markers)
        )

    with qcluster(
        tmp_path,
        Q_CLUSTER_NAME="ocr",
        MEDIA_ROOT=settings.MEDIA_ROOT,
        Q_OCR_TIMEOUT="75",
        Q_OCR_RETRY=RETRY_SECONDS,
    ) as cluster:
        killed = kill_worker_when(cluster, read_part_way, "OCR under way")
        assert not killed.is_running()
        # Nothing stored for the killed try; the task waits for its lock to pass.
        assert _stored_results(OCR_JOB) == []
        done = wait_for(
            lambda: next((t for t in _stored_results(OCR_JOB) if t.success), None),
            cluster,
            "OCR finished after the kill",
        )
        wait_for(lambda: not OrmQ.objects.exists(), cluster, "the queue emptied")
        log = cluster.log_tail()

    assert "after death" in log  # the sentinel replaced the killed worker
    assert done.result == "done"
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert document.ocr_status in (OcrStatus.COMPLETED, OcrStatus.NEEDS_REVIEW)
    assert document.page_count == document.ocr_pages_done == len(markers)
    assert document.ocr_text.count(PAGE_BREAK) == len(markers)
    pages = document.ocr_text.split(PAGE_BREAK)[:-1]
    for page, marker in zip(pages, markers, strict=True):
        word = marker.rsplit(" ", 1)[1]
        assert word in page  # each page's own text, in order
        assert document.ocr_text.count(word) == 1
    # One successful run stored; no failure: the kill is not counted as one.
    assert [t.success for t in _stored_results(OCR_JOB)] == [True]


IMPORT_ROWS = 3000
IMPORT_JOB = "clients.tasks.client_import_job"


def _import_csv(rows: int) -> str:
    lines = [
        "display_name,client_code,email,tags,contact_first_name,contact_last_name,contact_email"
    ]
    lines += [
        f"Client {n:05d},K{n:05d},office{n}@example.test,Imported; Batch {n % 7},"
        f"Pat,Number{n},pat{n}@example.test"
        for n in range(rows)
    ]
    return "\n".join(lines) + "\n"


def _writes_open_on(table: str) -> bool:
    """Another session of this database holds an insert's lock on `table`: it
    wrote rows there in a transaction not committed yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.database = (SELECT oid FROM pg_database"
            "                     WHERE datname = current_database())"
            " AND c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted"
            " AND l.pid <> pg_backend_pid()",
            [table],
        )
        return cursor.fetchone()[0] > 0


def test_an_import_killed_before_it_commits_is_retried_and_imports_each_row_once(
    cast, tmp_path
):
    with tenant_context(cast.alpha):
        client_import = client_import_create(
            organization=cast.alpha,
            user=cast.sam,
            filename="clients.csv",
            text=_import_csv(IMPORT_ROWS),
        )
        assert client_import.error_count == 0, client_import.errors[:3]
        # As client_import_queue does, through the real queue (the suite is sync).
        ClientImport.objects.filter(pk=client_import.pk).update(
            status=ImportStatus.QUEUED
        )
    async_task(
        ADAPTER,
        IMPORT_JOB,
        cast.alpha.pk,
        {"import_id": client_import.pk, "user_id": cast.sam.pk, "remote_addr": None},
        sync=False,
    )

    def counts() -> tuple[int, int, int]:
        with tenant_context(cast.alpha):
            return (
                Client.objects.filter(organization=cast.alpha).count(),
                Contact.objects.filter(organization=cast.alpha).count(),
                ClientContact.objects.filter(organization=cast.alpha).count(),
            )

    with qcluster(tmp_path, Q_TIMEOUT="60", Q_RETRY=RETRY_SECONDS) as cluster:
        kill_worker_when(
            cluster,
            lambda: _writes_open_on("clients_clientcontact"),
            "the import's clients, contacts and links written",
        )
        # Killed before its commit: PostgreSQL rolled all of it back.
        assert counts() == (0, 0, 0)
        with tenant_context(cast.alpha):
            client_import.refresh_from_db()
        assert client_import.status == ImportStatus.QUEUED
        done = wait_for(
            lambda: next((t for t in _stored_results(IMPORT_JOB) if t.success), None),
            cluster,
            "the import finished after the kill",
        )
        wait_for(lambda: not OrmQ.objects.exists(), cluster, "the queue emptied")
        log = cluster.log_tail()

    assert "after death" in log
    assert done.result == "imported"
    assert counts() == (IMPORT_ROWS, IMPORT_ROWS, IMPORT_ROWS)
    with tenant_context(cast.alpha):
        client_import.refresh_from_db()
        codes = list(Client.objects.values_list("client_code", flat=True))
        events = AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.CLIENTS_IMPORTED
        ).count()
    assert client_import.status == ImportStatus.IMPORTED
    assert client_import.imported_clients == IMPORT_ROWS
    assert sorted(codes) == [f"K{n:05d}" for n in range(IMPORT_ROWS)]
    assert events == 1
    # Any later delivery of the same task finds the import done and writes nothing.
    assert all(
        t.result in ("imported", "already_imported")
        for t in _stored_results(IMPORT_JOB)
    )
