"""Background jobs of the documents app (django-q2), thin adapters over services.

OCR: `enqueue_ocr(document)` (documents.services.ocr) queues `document_ocr_job`
once the transaction that made the document commits, through
`enqueue_for_organization` (the job runs in the document's firm's scope and RLS
setting).

OCR has a django-q2 cluster of its own, `ocr` (`@job_cluster`): its own
workers and timeout (`Q_OCR_TIMEOUT`, default 300 s), so a long scan never
holds the queue that sends reminders and runs imports. Every way the job is
queued (the first run, the next slice, a retry, the Retry button on the
failed-jobs page) goes to that queue.

The job is bounded in time. The cluster kills a task after `Q_OCR_TIMEOUT`
seconds; each tesseract run is killed after `OCR_PAGE_TIMEOUT` seconds (30),
and the job stops taking new pages after `OCR_JOB_BUDGET` seconds (the timeout
less 45 s) and queues itself again for the rest, so a long document is read in
slices that each finish in time.

Retries: a failure that a later attempt may not meet (tesseract timed out, the
file store or the system failed: `OcrTransientError`, `OSError`) queues the job
again 30 s, then 60 s later, through the shared delayed queueing of
`advisoros.tenancy.tasks.enqueue_later`; after the third attempt the document is
marked failed with the error (the job handles these itself, rather than raising
into `run_in_organization`'s generic retries, because the document must show
why it failed). A failure that never changes (a password-protected or damaged
PDF) fails the document at once.

Virus scan: `document_scan_job` scans an upload stored PENDING
(documents.services.scan), in the default cluster (a scan takes about half a
second of clamd's CPU for 10 MB; OCR's queue may be minutes long, and nothing is
served until the verdict). A scanner that does not answer, or a store that
fails, queues the job again 30 s, 60 s, 120 s, 240 s later (`enqueue_later`,
like OCR: the document must say why it waits); after the fifth try the
version is FAILED ("could not be checked": never served). A file longer than
clamd takes fails at once.
"""

from __future__ import annotations

import time

from django.conf import settings

from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization, enqueue_later, job_cluster
from documents.models import Document
from documents.ocr import OcrTransientError
from documents.scanning import FileTooLongToScan, ScannerUnavailable
from documents.services.documents import SCAN_JOB
from documents.services.ocr import (
    OCR_JOB,
    OcrOutcome,
    document_ocr_fail,
    document_ocr_run,
)

OCR_CLUSTER = "ocr"  # a key of settings.Q_CLUSTER["ALT_CLUSTERS"]
MAX_ATTEMPTS = 3
RETRY_BASE_SECONDS = 30
SCAN_MAX_ATTEMPTS = 5


@job_cluster(OCR_CLUSTER)
def document_ocr_job(
    *,
    organization: Organization,
    document_id: int,
    attempt: int = 0,
    force: bool = False,
) -> str:
    """One slice of a document's OCR (run by `run_in_organization`)."""
    budget = float(settings.OCR_JOB_BUDGET)
    try:
        outcome = document_ocr_run(
            document_id=document_id,
            force=force,
            deadline=time.monotonic() + budget,
        )
    except Document.DoesNotExist:
        return "gone: the document was deleted"
    except (OcrTransientError, OSError) as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if attempt + 1 >= MAX_ATTEMPTS:
            document_ocr_fail(
                document_id=document_id,
                error=f"{message} (gave up after {MAX_ATTEMPTS} attempts)",
            )
            return f"failed: {message}"
        delay = ocr_retry_delay(attempt)
        ocr_retry_later(
            organization=organization,
            document_id=document_id,
            attempt=attempt + 1,
            delay=delay,
        )
        return f"retry {attempt + 2} of {MAX_ATTEMPTS} in {delay} s: {message}"
    if outcome == OcrOutcome.CONTINUE:
        # The next slice resumes after the last page read (a fresh budget).
        enqueue_for_organization(OCR_JOB, organization, document_id=document_id)
    return str(outcome)


def ocr_retry_delay(attempt: int) -> int:
    """Seconds before attempt `attempt + 1`: 30, 60, 120 ..."""
    return RETRY_BASE_SECONDS * 2**attempt


def ocr_retry_later(
    *, organization: Organization, document_id: int, attempt: int, delay: int
) -> None:
    """Run the job again in `delay` seconds."""
    job_kwargs = {"document_id": document_id, "attempt": attempt}
    enqueue_later((OCR_JOB, organization.pk, job_kwargs, 1), delay_seconds=delay)


def document_quarantine_alert_job(
    *, organization: Organization, document_id: int
) -> str:
    """Email the owners and admins about a quarantined upload."""
    from documents.services.quarantine import document_quarantine_alert

    sent = document_quarantine_alert(document_id=document_id)
    return f"alerted {len(sent)}"


def document_scan_job(
    *, organization: Organization, document_id: int, attempt: int = 0
) -> str:
    """The virus scan of a PENDING upload (documents.services.scan)."""
    from documents.services.scan import (
        document_scan_fail,
        document_scan_note,
        document_scan_run,
    )

    try:
        return document_scan_run(document_id=document_id)
    except Document.DoesNotExist:
        return "gone: the document was deleted"
    except FileTooLongToScan as exc:
        document_scan_fail(
            document_id=document_id,
            error=f"too large for the virus scanner to check ({exc.reason})",
        )
        return f"failed: {exc.reason}"
    except (ScannerUnavailable, OSError) as exc:
        reason = getattr(exc, "reason", "") or f"{type(exc).__name__}: {exc}"
        if attempt + 1 >= SCAN_MAX_ATTEMPTS:
            document_scan_fail(
                document_id=document_id,
                error=f"{reason} (gave up after {SCAN_MAX_ATTEMPTS} attempts)",
            )
            return f"failed: {reason}"
        delay = ocr_retry_delay(attempt)
        document_scan_note(
            document_id=document_id,
            error=f"{reason} (try {attempt + 2} of {SCAN_MAX_ATTEMPTS} in {delay} s)",
        )
        job_kwargs = {"document_id": document_id, "attempt": attempt + 1}
        enqueue_later((SCAN_JOB, organization.pk, job_kwargs, 1), delay_seconds=delay)
        return f"retry {attempt + 2} of {SCAN_MAX_ATTEMPTS} in {delay} s: {reason}"
