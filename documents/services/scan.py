"""The virus scan of a stored upload, after the upload's answer.

With a scanner configured (and `CLAMD_SCAN_IN_REQUEST` off, the default) an
upload is checked cheaply in its request (size, type, content limits), stored
with `scan_status` PENDING, and `documents.tasks.document_scan_job` is queued for
the commit (documents.services.documents). Until the job's verdict a version is
never served (documents.storage answers a "being checked" page), shared with the
client (portal.selectors), read by OCR or made its lineage's latest; a request
item it was sent for counts as received, and cannot be accepted.

The job scans the stored bytes (`document_scan_run`) and applies the verdict
(`document_scan_apply`):

- clean: served from now on; OCR is queued; a later version becomes its
  lineage's latest (unless a newer version already has);
- infected: quarantined as an upload scanned in its request is (never served,
  unshared, not read, the audit event and the alert to owners and admins), and
  taken off its request item: an item left with nothing goes back to the client
  with "We could not accept <file>: it did not pass our security check";
- no verdict (the scanner is down, the store failed): the job is tried again
  later (documents.tasks), the version stays PENDING with the reason in
  `scan_error`; after the last try it is FAILED ("could not be checked"), which
  is never served either.

Every step checks the version is still waiting for a verdict, so a job run twice
(a retry, a redelivery) changes nothing the second time.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from documents import scanning
from documents.models import Document, OcrStatus, ScanStatus
from documents.scanning import ScanVerdict
from documents.services.documents import document_quarantine_record
from documents.services.ocr import enqueue_ocr
from documents.storage import document_open
from documents.upload import UploadQuarantined

WAITING = (ScanStatus.PENDING, ScanStatus.FAILED)


def document_scan_run(*, document_id: int) -> str:
    """Scan the stored file of a version waiting for its verdict and apply it.
    Raises Document.DoesNotExist (removed since), ScannerUnavailable
    (FileTooLongToScan) or OSError (the store); the caller retries."""
    document = Document.objects.only("pk", "scan_status", "file").get(pk=document_id)
    if document.scan_status not in WAITING:
        return f"already {document.scan_status}"
    with document_open(document) as handle:
        verdict = scanning.scan_file(handle)
    return document_scan_apply(document_id=document_id, verdict=verdict)


@transaction.atomic
def document_scan_apply(*, document_id: int, verdict: ScanVerdict) -> str:
    """Record `verdict` on a version waiting for it (see the module)."""
    row = Document.objects.only("pk", "parent_document_id").get(pk=document_id)
    root_id = row.parent_document_id or row.pk
    # The root first, as new versions do (documents.services.documents).
    Document.objects.select_for_update().only("pk").get(pk=root_id)
    document = Document.objects.select_for_update().get(pk=document_id)
    if document.scan_status not in WAITING:
        return f"already {document.scan_status}"
    document.scan_status = verdict.status
    document.scanned_at = verdict.scanned_at or timezone.now()
    document.scan_signature = verdict.signature[:200]
    document.scan_error = ""
    changed = ["scan_status", "scanned_at", "scan_signature", "scan_error"]
    if verdict.status == ScanStatus.INFECTED:
        _quarantine(document, changed)
        return f"quarantined: {document.scan_signature}"
    if document.parent_document_id and not document.is_latest_version:
        _become_latest(document, root_id, changed)
    document.save(update_fields=[*changed, "updated_at"])
    enqueue_ocr(document)
    return str(verdict.status)


def _become_latest(document: Document, root_id: int, changed: list[str]) -> None:
    """A later version found clean becomes the latest, unless a newer one has."""
    latest = Document.objects.filter(
        Q(pk=root_id) | Q(parent_document_id=root_id), is_latest_version=True
    ).first()
    if latest is not None and latest.version > document.version:
        return
    if latest is not None:
        latest.is_latest_version = False
        latest.save(update_fields=["is_latest_version", "updated_at"])
    document.is_latest_version = True
    changed.append("is_latest_version")


def _quarantine(document: Document, changed: list[str]) -> None:
    item = document.request_item
    document.visible_to_client = False
    document.ocr_status = OcrStatus.SKIPPED
    document.save(
        update_fields=[*changed, "visible_to_client", "ocr_status", "updated_at"]
    )
    if item is not None:
        from documents.services.requests import document_request_upload_quarantined

        reason = UploadQuarantined(document.original_filename, "").message
        document_request_upload_quarantined(document=document, reason=reason)
    document_quarantine_record(document)


def document_scan_note(*, document_id: int, error: str) -> None:
    """Why the scan gave no verdict this time (the job tries again)."""
    Document.objects.filter(pk=document_id, scan_status=ScanStatus.PENDING).update(
        scan_error=error[:300], updated_at=timezone.now()
    )


def document_scan_fail(*, document_id: int, error: str) -> None:
    """No verdict after the last try: "could not be checked", never served."""
    Document.objects.filter(pk=document_id, scan_status=ScanStatus.PENDING).update(
        scan_status=ScanStatus.FAILED, scan_error=error[:300], updated_at=timezone.now()
    )
