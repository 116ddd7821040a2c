"""Virus scanning of staff uploads with a real clamd (tests/conftest.py `clamd`:
Debian's clamd with an EICAR-only database made at test time).

Every new version has a verdict before it can be seen: clean, quarantined
(infected: kept, never served, hidden from the client, not read by OCR, the
firm alerted, an audit event), or "not scanned" when no scanner is configured.
A scanner that is configured but not answering refuses uploads (fail closed)."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.core.files.base import ContentFile

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from documents.clamd_local import eicar, local_clamd
from documents.models import Document, OcrStatus, ScanStatus
from documents.services.documents import document_add_version, document_create
from documents.upload import (
    CHUNK,
    DocumentUploadHandler,
    IncomingFile,
    UploadQuarantined,
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


def test_a_clean_upload_is_scanned_and_shown_clean(cast, jane, login_as, scanner):
    web = login_as(cast.sam)
    name, content = clean_pdf()

    response = send_raw(web, jane, content, name)

    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.CLEAN
    assert document.scanned_at is not None
    assert document.scan_signature == ""
    page = _detail(web, document)
    assert 'data-testid="scan-status">Clean' in page
    assert web.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 200


def test_eicar_is_quarantined_never_served_and_the_firm_alerted(
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
    assert result["ok"] is False
    assert "quarantined" in result["message"]
    assert "Eicar-Test-Signature" in result["message"]
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
    (alert,) = mail.outbox
    assert sorted(alert.to) == sorted([cast.alice.email, cast.adam.email])
    assert document.scan_signature in alert.body


def test_the_uploader_is_told_on_the_page_without_javascript(
    cast, jane, login_as, scanner
):
    web = login_as(cast.sam)
    name, content = eicar_txt()

    response = web.post(
        f"/o/alpha/clients/{jane.uuid}/documents/upload/",
        {"files": ContentFile(content, name=name), "category": "other"},
        follow=True,
    )

    flashes = [str(m) for m in response.context["messages"]]
    assert any("quarantined" in m and "Eicar-Test-Signature" in m for m in flashes)


def test_an_infected_new_version_stays_out_of_the_lineage(cast, jane, scanner):
    with tenant_context(cast.alpha):
        first = make_document(jane, title="Ledger")
        name, content = eicar_txt()
        with pytest.raises(UploadQuarantined):
            document_add_version(
                document=first, file=ContentFile(content), filename=name
            )
        first.refresh_from_db()
        quarantined = Document.objects.get(parent_document=first)
    assert first.is_latest_version is True
    assert quarantined.version == 2
    assert quarantined.is_latest_version is False
    assert quarantined.scan_status == ScanStatus.INFECTED


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


def test_a_configured_scanner_that_does_not_answer_refuses_uploads(
    cast, jane, login_as, settings, tmp_path, media_root
):
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    web = login_as(cast.sam)
    name, content = clean_pdf()

    response = send_raw(web, jane, content, name)

    result = answer(response)
    assert result["ok"] is False
    assert "virus scanner is not answering" in result["message"]
    assert documents_of(jane) == []
    assert stored_files(media_root) == []


def test_a_quarantined_version_is_never_restored(cast, jane, scanner):
    with tenant_context(cast.alpha):
        first = make_document(jane, title="Ledger")
        with pytest.raises(UploadQuarantined):
            document_add_version(
                document=first, file=ContentFile(eicar_txt()[1]), filename="x.txt"
            )
        quarantined = Document.objects.get(parent_document=first)
        from documents.services.documents import document_restore_version

        with pytest.raises(UploadRejected, match="quarantined"):
            document_restore_version(version=quarantined, restored_by=cast.sam)


def test_the_service_scans_every_upload_path(cast, jane, scanner):
    with tenant_context(cast.alpha):
        document = document_create(
            client=jane, file=ContentFile(clean_pdf()[1]), filename="a.pdf"
        )
    assert document.scan_status == ScanStatus.CLEAN


# Scanning while the file arrives --------------------------------------------------
#
# The upload handler sends each chunk to clamd as it arrives (documents.scanning
# StreamingScan); the check then reads clamd's verdict on those bytes instead of
# scanning the stored file again.

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


def test_eicar_split_across_chunks_is_found_by_the_streamed_scan(media_root, scanner):
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


def test_a_streamed_upload_is_not_scanned_a_second_time(media_root, scanner):
    clean = BEFORE + AFTER
    incoming = _received([clean[: len(clean) // 2], clean[len(clean) // 2 :]])
    # Were the stored file scanned again, this would be found.
    _overwrite(incoming, eicar())

    checked = validate_upload(file=incoming, filename="notes.txt", max_bytes=10 * MB)

    assert checked.scan.status == ScanStatus.CLEAN
    checked.close()


def test_eicar_across_a_request_chunk_boundary_is_quarantined(
    cast, jane, login_as, scanner
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
    # clamd is not answering while the file arrives (restarting, say) ...
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    incoming = _received([BEFORE, eicar(), AFTER])
    # ... and is back when the upload is checked: the file is scanned whole.
    settings.CLAMD_SOCKET = clamd

    checked = validate_upload(file=incoming, filename="notes.txt", max_bytes=10 * MB)

    assert checked.scan.status == ScanStatus.INFECTED
    checked.close()


@pytest.fixture
def small_scanner(settings, tmp_path):
    """A clamd that takes streams of at most 1 MB (StreamMaxLength 1M)."""
    with local_clamd(tmp_path / "clamd", max_megabytes=1) as socket_path:
        settings.CLAMD_SOCKET = socket_path
        yield socket_path


def test_a_file_longer_than_the_scanner_takes_is_refused_as_too_large_to_check(
    cast, jane, login_as, small_scanner, media_root
):
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
