"""Virus scanning of staff uploads with a real clamd (tests/conftest.py `clamd`:
Debian's clamd with an EICAR-only database made at test time).

By default an upload is stored "pending" and a job scans it after the upload's
answer (documents.services.scan): until the job finds it clean it is never
served, and the job's verdict is clean, quarantined (infected: kept, never
served, hidden from the client, not read by OCR, the firm alerted, an audit
event), or, when the scanner never answers, "could not be checked". "Not
scanned" when no scanner is configured. With CLAMD_SCAN_IN_REQUEST the upload's
request waits for the verdict (streamed while the file arrives), and a scanner
that does not answer refuses uploads (fail closed)."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django_q.models import OrmQ

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.tasks import run_in_organization
from documents.clamd_local import eicar, local_clamd
from documents.models import Document, OcrStatus, ScanStatus
from documents.services.documents import (
    SCAN_JOB,
    document_add_version,
    document_create,
    document_restore_version,
)
from documents.tasks import SCAN_MAX_ATTEMPTS
from documents.upload import (
    CHUNK,
    DocumentUploadHandler,
    IncomingFile,
    UploadRejected,
    validate_upload,
)
from tests.attack_files import clean_pdf, eicar_txt
from tests.documents.conftest import stored_files
from tests.documents.test_upload import answer, documents_of, send_raw
from tests.factories import make_document

pytestmark = pytest.mark.django_db


def _detail(web, document) -> str:
    return web.get(f"/o/alpha/documents/{document.uuid}/").content.decode()


def _run(callbacks, capture) -> None:
    """Run what a commit would have run (the scan job, django-q2's sync mode
    here), and what that queued in turn (OCR, the quarantine alert)."""
    with capture(execute=True):
        for callback in callbacks:
            callback()


def _scan_job(organization, document, *, attempt: int = 0) -> str:
    kwargs = {"document_id": document.pk, "attempt": attempt}
    return run_in_organization(SCAN_JOB, organization.pk, kwargs)


def test_an_upload_is_answered_pending_and_served_only_once_found_clean(
    cast, jane, login_as, scanner, django_capture_on_commit_callbacks
):
    web = login_as(cast.sam)
    name, content = clean_pdf()

    # The job is queued for the commit; it has not run when the answer comes.
    with django_capture_on_commit_callbacks() as callbacks:
        response = send_raw(web, jane, content, name)

    result = answer(response)
    assert result["ok"] is True
    assert "checking it for viruses" in result["message"]
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.PENDING
    assert document.scanned_at is None
    for action in ("download", "view"):
        refused = web.get(f"/o/alpha/documents/{document.uuid}/{action}/")
        assert refused.status_code == 409
        assert refused["Retry-After"] == "5"
        assert content not in refused.content
        assert b"being checked for viruses" in refused.content
    page = _detail(web, document)
    assert 'data-testid="scan-pending"' in page
    assert "Checking…" in page
    assert f"/documents/{document.uuid}/download/" not in page
    tab = web.get(f"/o/alpha/clients/{jane.uuid}/?tab=documents").content.decode()
    assert "Checking…" in tab
    # Not read by OCR before the verdict: the OCR job is not among the callbacks.
    with tenant_context(cast.alpha):
        assert not AuditEvent.objects.filter(
            action=AuditAction.DOCUMENT_DOWNLOADED
        ).exists()

    _run(callbacks, django_capture_on_commit_callbacks)

    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.CLEAN
    assert document.scanned_at is not None
    assert document.ocr_status != OcrStatus.PENDING  # read once clean
    assert 'data-testid="scan-status">Clean' in _detail(web, document)
    assert web.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 200
    # The page's poll reloads it whole once the verdict has come.
    poll = web.get(f"/o/alpha/documents/{document.uuid}/", HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true"


def test_eicar_is_quarantined_by_the_job_never_served_and_the_firm_alerted(
    cast, jane, login_as, scanner, media_root, django_capture_on_commit_callbacks
):
    web = login_as(cast.sam)
    name, content = eicar_txt()

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = send_raw(web, jane, content, name)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    result = answer(response)
    # The answer came before the verdict: the uploader learns it by email.
    assert result["ok"] is True
    assert "checking it for viruses" in result["message"]
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.INFECTED
    assert document.scan_signature.startswith("Eicar-Test-Signature")
    assert document.ocr_status == OcrStatus.SKIPPED
    assert document.visible_to_client is False
    # Kept for the record, in the store, and never served.
    assert len(stored_files(media_root)) == 1
    for action in ("download", "view"):
        refused = web.get(f"/o/alpha/documents/{document.uuid}/{action}/")
        assert refused.status_code == 403
        assert content not in refused.content
        assert b"quarantined" in refused.content
    page = _detail(web, document)
    assert 'data-testid="quarantined"' in page
    assert f"/documents/{document.uuid}/download/" not in page
    with tenant_context(cast.alpha):
        event = AuditEvent.objects.get(action=AuditAction.DOCUMENT_QUARANTINED)
        assert not AuditEvent.objects.filter(
            action__in=[AuditAction.DOCUMENT_DOWNLOADED, AuditAction.DOCUMENT_VIEWED]
        ).exists()
    assert event.actor == cast.sam
    assert event.detail["signature"] == document.scan_signature
    assert event.detail["sha256"] == document.checksum
    # The owners and admins, and the uploader (answered before the verdict).
    (alert,) = mail.outbox
    assert sorted(alert.to) == sorted(
        [cast.alice.email, cast.adam.email, cast.sam.email]
    )
    assert document.scan_signature in alert.body


def test_the_uploader_is_told_it_is_being_checked_on_the_page_without_javascript(
    cast, jane, login_as, scanner
):
    web = login_as(cast.sam)
    name, content = clean_pdf()

    response = web.post(
        f"/o/alpha/clients/{jane.uuid}/documents/upload/",
        {"files": ContentFile(content, name=name), "category": "other"},
        follow=True,
    )

    flashes = [str(m) for m in response.context["messages"]]
    assert any("uploaded; checking it for viruses" in m for m in flashes)


def test_a_new_version_becomes_the_latest_only_once_found_clean(
    cast, jane, scanner, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        first = make_document(jane, title="Ledger")
        with django_capture_on_commit_callbacks() as callbacks:
            second = document_add_version(
                document=first, file=ContentFile(clean_pdf()[1]), filename="l.pdf"
            )
        first.refresh_from_db()
        assert second.scan_status == ScanStatus.PENDING
        assert (first.is_latest_version, second.is_latest_version) == (True, False)
        with pytest.raises(UploadRejected, match="not been checked"):
            document_restore_version(version=second, restored_by=cast.sam)

        _run(callbacks, django_capture_on_commit_callbacks)

        first.refresh_from_db()
        second.refresh_from_db()
    assert second.scan_status == ScanStatus.CLEAN
    assert (first.is_latest_version, second.is_latest_version) == (False, True)


def test_an_infected_new_version_stays_out_of_the_lineage(
    cast, jane, scanner, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        first = make_document(jane, title="Ledger")
        name, content = eicar_txt()
        with django_capture_on_commit_callbacks(execute=True):
            document_add_version(
                document=first, file=ContentFile(content), filename=name
            )
        first.refresh_from_db()
        quarantined = Document.objects.get(parent_document=first)
        with pytest.raises(UploadRejected, match="quarantined"):
            document_restore_version(version=quarantined, restored_by=cast.sam)
    assert first.is_latest_version is True
    assert quarantined.version == 2
    assert quarantined.is_latest_version is False
    assert quarantined.scan_status == ScanStatus.INFECTED


def test_a_scanner_down_at_job_time_keeps_it_pending_and_retries_then_gives_up(
    cast, jane, login_as, settings, tmp_path, clamd, django_capture_on_commit_callbacks
):
    # Configured but not answering (restarting, say): the upload is taken ...
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    web = login_as(cast.sam)
    name, content = clean_pdf()
    with django_capture_on_commit_callbacks(execute=True):
        response = send_raw(web, jane, content, name)
    assert answer(response)["ok"] is True

    # ... and kept pending, never served, with a retry queued for later.
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.PENDING
    assert "try 2 of" in document.scan_error
    (retry,) = OrmQ.objects.all()
    assert retry.task["args"][2] == {"document_id": document.pk, "attempt": 1}
    assert web.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 409
    assert "has not answered yet" in _detail(web, document)

    # The last try gives up: "could not be checked", still never served.
    result = _scan_job(cast.alpha, document, attempt=SCAN_MAX_ATTEMPTS - 1)
    assert result.startswith("failed")
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.FAILED
    refused = web.get(f"/o/alpha/documents/{document.uuid}/download/")
    assert refused.status_code == 403
    assert content not in refused.content
    assert 'data-testid="scan-failed"' in _detail(web, document)

    # A retry once the scanner is back (the failed-jobs page's, say) checks it.
    settings.CLAMD_SOCKET = clamd
    with django_capture_on_commit_callbacks(execute=True):
        assert _scan_job(cast.alpha, document, attempt=1) == ScanStatus.CLEAN
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.CLEAN
    assert document.scan_error == ""
    assert web.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 200


def test_a_job_run_twice_changes_nothing_the_second_time(
    cast, jane, scanner, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        with django_capture_on_commit_callbacks(execute=True):
            document = document_create(
                client=jane, file=ContentFile(eicar_txt()[1]), filename="x.txt"
            )
    assert _scan_job(cast.alpha, document) == "already infected"
    with tenant_context(cast.alpha):
        assert (
            AuditEvent.objects.filter(action=AuditAction.DOCUMENT_QUARANTINED).count()
            == 1
        )


def test_without_a_scanner_files_are_not_scanned_and_the_page_says_so(
    cast, jane, login_as, settings
):
    settings.CLAMD_SOCKET = ""
    web = login_as(cast.sam)
    name, content = eicar_txt()

    response = send_raw(web, jane, content, name)

    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.NOT_SCANNED
    assert document.scanned_at is None
    assert 'data-testid="not-scanned"' in _detail(web, document)
    tab = web.get(f"/o/alpha/clients/{jane.uuid}/?tab=documents").content.decode()
    assert "Not scanned" in tab


def test_the_service_scans_every_upload_path(
    cast, jane, scanner, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha), django_capture_on_commit_callbacks(execute=True):
        document = document_create(
            client=jane, file=ContentFile(clean_pdf()[1]), filename="a.pdf"
        )
    assert document.scan_status == ScanStatus.PENDING  # as the upload left it
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.CLEAN


@pytest.fixture
def small_scanner(settings, tmp_path):
    """A clamd that takes streams of at most 1 MB (StreamMaxLength 1M)."""
    with local_clamd(tmp_path / "clamd", max_megabytes=1) as socket_path:
        settings.CLAMD_SOCKET = socket_path
        yield socket_path


def test_a_file_longer_than_the_scanner_takes_could_not_be_checked(
    cast, jane, small_scanner, django_capture_on_commit_callbacks
):
    content = b"Ledger line: opening balance carried forward.\n" * (2 * MB // 47)
    with tenant_context(cast.alpha), django_capture_on_commit_callbacks(execute=True):
        document = document_create(
            client=jane, file=ContentFile(content), filename="l.txt"
        )
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.FAILED
    assert "too large for the virus scanner" in document.scan_error


# In the upload's request (CLAMD_SCAN_IN_REQUEST) -----------------------------------


@pytest.fixture
def in_request(settings, scanner) -> str:
    """The upload's request waits for the verdict (streamed while it arrives)."""
    settings.CLAMD_SCAN_IN_REQUEST = True
    return scanner


def test_in_the_request_eicar_is_refused_as_quarantined_at_once(
    cast, jane, login_as, in_request
):
    web = login_as(cast.sam)
    name, content = eicar_txt()

    response = send_raw(web, jane, content, name)

    result = answer(response)
    assert result["ok"] is False
    assert "quarantined" in result["message"]
    assert "Eicar-Test-Signature" in result["message"]
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.INFECTED


def test_in_the_request_a_scanner_that_does_not_answer_refuses_uploads(
    cast, jane, login_as, settings, tmp_path, media_root
):
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    settings.CLAMD_SCAN_IN_REQUEST = True
    web = login_as(cast.sam)
    name, content = clean_pdf()

    response = send_raw(web, jane, content, name)

    result = answer(response)
    assert result["ok"] is False
    assert "virus scanner is not answering" in result["message"]
    assert documents_of(jane) == []
    assert stored_files(media_root) == []


# Scanning while the file arrives --------------------------------------------------
#
# With CLAMD_SCAN_IN_REQUEST, the upload handler sends each chunk to clamd as it
# arrives (documents.scanning StreamingScan); the check then reads clamd's verdict
# on those bytes instead of scanning the stored file again.

MB = 1024 * 1024


def _received(chunks: list[bytes], name: str = "notes.txt") -> IncomingFile:
    """What the upload handler makes of a file that arrives in `chunks` (each is
    sent to clamd as one INSTREAM chunk, so their boundaries are clamd's)."""
    handler = DocumentUploadHandler(max_bytes=10 * MB)
    handler.new_raw_file(name, "text/plain")
    received = 0
    for chunk in chunks:
        handler.receive_data_chunk(chunk, received)
        received += len(chunk)
    return handler.file_complete(received)


BEFORE = b"Call notes, March.\n" * 500
AFTER = b"\nFollow up next week.\n" * 50


def _overwrite(incoming: IncomingFile, content: bytes) -> None:
    with open(incoming.temporary_file_path(), "r+b") as handle:
        handle.write(content)


def test_eicar_split_across_chunks_is_found_by_the_streamed_scan(
    media_root, in_request
):
    signature = eicar()
    # Cut inside the signature, down to single bytes.
    chunks = [
        BEFORE + signature[:10],
        signature[10:11],
        signature[11:12],
        signature[12:40],
        signature[40:] + AFTER,
    ]
    incoming = _received(chunks)
    # The file on disk no longer holds it: a verdict of INFECTED can only be
    # clamd's verdict on the bytes that were streamed while they arrived.
    _overwrite(incoming, b"x" * incoming.size)

    checked = validate_upload(file=incoming, filename="notes.txt", max_bytes=10 * MB)

    assert checked.scan.status == ScanStatus.INFECTED
    assert checked.scan.signature.startswith("Eicar-Test-Signature")
    checked.close()


def test_a_streamed_upload_is_not_scanned_a_second_time(media_root, in_request):
    clean = BEFORE + AFTER
    incoming = _received([clean[: len(clean) // 2], clean[len(clean) // 2 :]])
    # Were the stored file scanned again, this would be found.
    _overwrite(incoming, eicar())

    checked = validate_upload(file=incoming, filename="notes.txt", max_bytes=10 * MB)

    assert checked.scan.status == ScanStatus.CLEAN
    checked.close()


def test_eicar_across_a_request_chunk_boundary_is_quarantined(
    cast, jane, login_as, in_request
):
    """The script's raw body is read 1 MiB at a time (documents.upload.CHUNK)."""
    web = login_as(cast.sam)
    line = b"Ledger line 0001: opening balance carried forward.\n"
    filler = line * (CHUNK // len(line) + 1)
    content = filler[: CHUNK - 30] + eicar() + filler[:4096]

    response = send_raw(web, jane, content, "ledger.txt")

    result = answer(response)
    assert result["ok"] is False
    assert "quarantined" in result["message"]
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.INFECTED


def test_an_upload_whose_stream_to_the_scanner_broke_is_scanned_from_disk(
    media_root, settings, tmp_path, clamd
):
    settings.CLAMD_SCAN_IN_REQUEST = True
    # clamd is not answering while the file arrives (restarting, say) ...
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    incoming = _received([BEFORE, eicar(), AFTER])
    # ... and is back when the upload is checked: the file is scanned whole.
    settings.CLAMD_SOCKET = clamd

    checked = validate_upload(file=incoming, filename="notes.txt", max_bytes=10 * MB)

    assert checked.scan.status == ScanStatus.INFECTED
    checked.close()


def test_in_the_request_a_file_longer_than_the_scanner_takes_is_refused(
    cast, jane, login_as, small_scanner, media_root, settings
):
    settings.CLAMD_SCAN_IN_REQUEST = True
    web = login_as(cast.sam)
    content = b"Ledger line: opening balance carried forward.\n" * (2 * MB // 47)

    response = send_raw(web, jane, content, "ledger.txt")

    result = answer(response)
    assert result["ok"] is False
    assert "too large for the virus scanner to check" in result["message"]
    with tenant_context(cast.alpha), pytest.raises(UploadRejected, match="too large"):
        document_create(client=jane, file=ContentFile(content), filename="l.txt")
    assert documents_of(jane) == []
    assert stored_files(media_root) == []
