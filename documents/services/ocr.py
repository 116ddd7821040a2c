"""OCR of a document version: read its text, judge it, suggest what it is.

`document_ocr_run` is what the background job (documents.tasks) runs, and what
demo seeding and tests call directly. It runs in the document's firm's context
(`tenant_context`), takes an id, and is safe to run again:

- a document already read (completed, needs review, failed, skipped) is left
  alone unless `force`;
- two runs of one document never overlap (a PostgreSQL advisory lock for the
  run; the second answers BUSY); a run left PROCESSING by a killed worker holds
  no lock any more (the lock dies with its connection), so the next run resumes it;
- a long document is read in slices: with a `deadline` the run stops after the
  page that passes it, saves the pages read so far, and answers CONTINUE; the
  next run resumes at the next page (the text of each page ends with a form
  feed, so the pages already read are `ocr_text.count("\\f")`).

Progress (`ocr_pages_done` of `page_count`) is saved after every page with one
`UPDATE` so the document page can show it while the job runs.

Outcome: confidence is the mean word confidence over the document (a text-layer
page counts each word as 1.0); below the firm's `ocr_review_threshold` the
document needs review, unless a person already confirmed it. Unreadable files
(password-protected or damaged PDFs, broken images) fail at once with a message
for people; file types OCR does not read (Office documents ...) are skipped.
Plain text and CSV files are their own text, completed with confidence 1.0.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.tasks import enqueue_for_organization
from documents import classify, ocr
from documents.models import Document, DocumentCategory, OcrStatus
from documents.services.retention import document_retention_refresh
from documents.services.settings import document_settings_for

OCR_JOB = "documents.tasks.document_ocr_job"
# A suggestion at least this sure is applied to a document still filed as "other".
AUTO_APPLY_CONFIDENCE = 0.9
# ... and its tax year, when the year is at least this clear.
AUTO_APPLY_YEAR_CONFIDENCE = 0.75
# Progress is saved at most this often for pages that read fast (text layers).
PROGRESS_EVERY_SECONDS = 0.5

DONE_STATUSES = frozenset(
    {
        OcrStatus.COMPLETED,
        OcrStatus.NEEDS_REVIEW,
        OcrStatus.FAILED,
        OcrStatus.SKIPPED,
    }
)


# What _store_suggestion may change.
SUGGESTION_FIELDS = (
    "suggested_category",
    "suggested_tax_year",
    "suggestion_confidence",
    "suggestion_reasons",
    "category",
    "tax_year",
)


class OcrOutcome(StrEnum):
    DONE = "done"  # read to the end (or failed / skipped): status is final
    CONTINUE = "continue"  # the deadline passed: run again to read the rest
    ALREADY_DONE = "already done"
    BUSY = "busy"  # another run holds the document
    NOT_CHECKED = "not checked"  # no clean verdict: never read (services.scan)


def page_timeout() -> float:
    return float(settings.OCR_PAGE_TIMEOUT)


def document_ocr_run(
    *, document_id: int, force: bool = False, deadline: float | None = None
) -> OcrOutcome:
    """Read the document's text (see the module's notes).

    `deadline` is a `time.monotonic()` value. Raises `ocr.OcrTransientError` or
    `OSError` for failures a later attempt may not meet (the pages read so far
    are kept); the caller decides whether to retry (`document_ocr_fail` ends it).
    """
    with _run_lock(document_id) as locked:
        if not locked:
            return OcrOutcome.BUSY
        document = Document.objects.get(pk=document_id)
        if not document.is_servable:
            return OcrOutcome.NOT_CHECKED  # queued again once found clean
        if document.ocr_status in DONE_STATUSES and not force:
            return OcrOutcome.ALREADY_DONE
        kind = ocr.file_kind(document.mime_type)
        if kind is None:
            _finish_skipped(document)
            return OcrOutcome.DONE
        resuming = document.ocr_status == OcrStatus.PROCESSING and not force
        if not resuming:
            document.ocr_text = ""
            document.ocr_confidence = None
        start = document.ocr_text.count(ocr.PAGE_BREAK)
        Document.objects.filter(pk=document.pk).update(
            ocr_status=OcrStatus.PROCESSING,
            ocr_pages_done=start,
            ocr_error="",
            ocr_text=document.ocr_text,
            ocr_confidence=document.ocr_confidence,
        )
        try:
            with _local_file(document) as path:
                return _read(document, path, kind, start=start, deadline=deadline)
        except ocr.OcrError as exc:
            if exc.transient:
                raise
            document_ocr_fail(document_id=document.pk, error=exc.message)
            return OcrOutcome.DONE


def _read(
    document: Document, path: Path, kind: str, *, start: int, deadline: float | None
) -> OcrOutcome:
    total = ocr.page_count(path, kind)
    Document.objects.filter(pk=document.pk).update(page_count=total)
    texts = [document.ocr_text] if document.ocr_text else []
    words = len(document.ocr_text.split())
    confidence_sum = (document.ocr_confidence or 0.0) * words
    done = start
    saved_at = time.monotonic()

    def checkpoint() -> None:
        document.ocr_text = "".join(texts)
        document.ocr_confidence = confidence_sum / words if words else None
        Document.objects.filter(pk=document.pk).update(
            ocr_text=document.ocr_text,
            ocr_confidence=document.ocr_confidence,
            ocr_pages_done=done,
        )

    pages = ocr.read_pages(path, kind, start=start, timeout=page_timeout())
    try:
        for page in pages:
            texts.append(page.text + ocr.PAGE_BREAK)
            words += page.words
            confidence_sum += page.confidence_sum
            done = page.number
            now = time.monotonic()
            if done < total and deadline is not None and now >= deadline:
                checkpoint()
                return OcrOutcome.CONTINUE
            if done == total or now - saved_at >= PROGRESS_EVERY_SECONDS:
                Document.objects.filter(pk=document.pk).update(ocr_pages_done=done)
                saved_at = now
    except (ocr.OcrTransientError, OSError):
        checkpoint()  # a retry resumes after the last page read
        raise
    finally:
        pages.close()
    _finish_read(document, "".join(texts), words, confidence_sum, pages_done=done)
    return OcrOutcome.DONE


@transaction.atomic
def _finish_read(
    document: Document, text: str, words: int, confidence_sum: float, *, pages_done
) -> None:
    document = Document.objects.select_for_update().get(pk=document.pk)
    filed_as = (document.category, document.tax_year)
    confidence = round(confidence_sum / words, 4) if words else 0.0
    threshold = float(
        document_settings_for(document.organization_id).ocr_review_threshold
    )
    confirmed = document.reviewed_at is not None
    document.ocr_text = text
    document.ocr_confidence = confidence
    document.ocr_pages_done = pages_done
    document.ocr_error = "" if words else "No text was found in the document."
    document.ocr_processed_at = timezone.now()
    document.ocr_status = (
        OcrStatus.NEEDS_REVIEW
        if confidence < threshold and not confirmed
        else OcrStatus.COMPLETED
    )
    _store_suggestion(document, classify.suggest(text))
    document.save(
        update_fields=[
            "ocr_text",
            "ocr_confidence",
            "ocr_pages_done",
            "ocr_error",
            "ocr_processed_at",
            "ocr_status",
            *SUGGESTION_FIELDS,
            "updated_at",
        ]
    )
    if (document.category, document.tax_year) != filed_as:
        # Category and tax year decide how long the firm keeps the document.
        document_retention_refresh(document=document)


def _store_suggestion(document: Document, suggestion: classify.Suggestion) -> None:
    document.suggested_category = suggestion.category
    document.suggested_tax_year = suggestion.tax_year
    document.suggestion_confidence = suggestion.confidence
    document.suggestion_reasons = [reason[:200] for reason in suggestion.reasons]
    if document.reviewed_at is not None:
        return  # a person chose the category: the suggestion is only shown
    if (
        document.category == DocumentCategory.OTHER
        and suggestion.category
        and suggestion.confidence >= AUTO_APPLY_CONFIDENCE
    ):
        document.category = suggestion.category
    if (
        document.tax_year is None
        and suggestion.tax_year is not None
        and suggestion.tax_year_confidence >= AUTO_APPLY_YEAR_CONFIDENCE
        and suggestion.category == document.category
    ):
        document.tax_year = suggestion.tax_year


def _finish_skipped(document: Document) -> None:
    Document.objects.filter(pk=document.pk).update(
        ocr_status=OcrStatus.SKIPPED,
        ocr_error="OCR does not read this type of file.",
        ocr_processed_at=timezone.now(),
        ocr_pages_done=0,
    )


def document_ocr_fail(*, document_id: int, error: str) -> None:
    """End a document's OCR as failed, keeping whatever pages were read."""
    Document.objects.filter(pk=document_id).update(
        ocr_status=OcrStatus.FAILED,
        ocr_error=error[:2000],
        ocr_processed_at=timezone.now(),
    )


@transaction.atomic
def document_review_confirm(
    *, document: Document, category: str, tax_year: int | None, reviewed_by: User
) -> Document:
    """A person checked the document: its category and tax year are now theirs."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    document.category = category
    document.tax_year = tax_year
    document.reviewed_by = reviewed_by
    document.reviewed_at = timezone.now()
    if document.ocr_status == OcrStatus.NEEDS_REVIEW:
        document.ocr_status = OcrStatus.COMPLETED
    document.save(
        update_fields=[
            "category",
            "tax_year",
            "reviewed_by",
            "reviewed_at",
            "ocr_status",
            "updated_at",
        ]
    )
    return document_retention_refresh(document=document)


def enqueue_ocr(document: Document, *, force: bool = False) -> None:
    """Queue OCR of a document version once the current transaction commits.

    The job runs in the document's firm's scope and RLS setting, in the OCR
    cluster (the job declares it). It is named by path: documents.tasks imports
    this module.
    """
    kwargs = {"document_id": document.pk}
    if force:
        kwargs["force"] = True
    enqueue_for_organization(OCR_JOB, document.organization, **kwargs)


@transaction.atomic
def document_ocr_requeue(*, document: Document) -> Document:
    """Read the document again from the start (after a failure, or on request)."""
    Document.objects.filter(pk=document.pk).update(
        ocr_status=OcrStatus.PENDING,
        ocr_error="",
        ocr_pages_done=0,
    )
    document.refresh_from_db()
    enqueue_ocr(document)
    return document


# Plumbing -------------------------------------------------------------------------


@contextmanager
def _run_lock(document_id: int) -> Iterator[bool]:
    """A session-level advisory lock on the document for the run. It dies with
    the connection, so a killed worker never leaves it held."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(hashtextextended('documents.ocr', %s))",
            [document_id],
        )
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(hashtextextended('documents.ocr', %s))",
                    [document_id],
                )


@contextmanager
def _local_file(document: Document) -> Iterator[Path]:
    """A path to the stored file: the file itself on local storage, else a
    temporary copy (S3), removed afterwards."""
    storage = document.file.storage
    try:
        local = Path(storage.path(document.file.name))
    except NotImplementedError:
        local = None
    if local is not None:
        if not local.is_file():
            raise ocr.OcrError("The stored file is missing.")
        yield local
        return
    suffix = Path(document.original_filename).suffix.lower()[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with storage.open(document.file.name, "rb") as source:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)
