"""OCR of stored documents: real tesseract on scans the tests draw themselves."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.db import connections
from django_q.models import Task as QTask

from advisoros.tenancy.db import tenant_context
from documents.models import Document, DocumentSettings, OcrStatus
from documents.services.ocr import (
    OCR_JOB,
    OcrOutcome,
    document_ocr_run,
    document_review_confirm,
    enqueue_ocr,
)
from tests.documents import scans

W2_WORDS = ("Wage", "Tax", "Statement", "Northwind", "Medicare")


def run(document: Document, **kwargs) -> Document:
    with tenant_context(document.organization):
        outcome = document_ocr_run(document_id=document.pk, **kwargs)
        document.refresh_from_db()
    document.outcome = outcome
    return document


def test_a_clean_png_scan_is_read_with_high_confidence(jane):
    document = run(scans.scan_document(jane, scans.scan_png()))

    assert document.outcome == OcrOutcome.DONE
    assert document.ocr_status == OcrStatus.COMPLETED
    for word in W2_WORDS:
        assert word in document.ocr_text
    assert document.ocr_confidence >= 0.8
    assert document.page_count == 1
    assert document.ocr_pages_done == 1
    assert document.ocr_processed_at is not None
    assert document.ocr_error == ""


def test_a_confident_suggestion_is_applied_to_a_document_filed_as_other(
    jane,
):
    document = run(scans.scan_document(jane, scans.scan_png()))

    assert document.suggested_category == "w2"
    assert document.suggestion_confidence >= 0.9
    assert "Found “Wage and Tax Statement”" in document.suggestion_reasons
    assert document.category == "w2"
    assert document.suggested_tax_year == document.tax_year == 2025
    # Kept 7 years after the end of the tax year (the firm's default policy).
    assert document.retention_until == date(2032, 12, 31)


def test_a_suggestion_never_overrides_a_category_chosen_at_upload(jane):
    content = scans.scan_png(scans.W2_LINES)
    document = run(
        scans.scan_document(jane, content, category="payroll", tax_year=2024)
    )

    assert document.suggested_category == "w2"
    assert (document.category, document.tax_year) == ("payroll", 2024)


def test_an_image_only_pdf_is_rendered_and_read_page_by_page(jane):
    content = scans.scan_pdf(scans.W2_LINES, scans.FORM_1099_LINES)
    document = run(scans.scan_document(jane, content, filename="scan.pdf"))

    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.page_count == document.ocr_pages_done == 2
    first, second, rest = document.ocr_text.split("\f")
    assert "Wage and Tax Statement" in first
    assert "Riverside Savings Bank" in second
    assert rest == ""
    assert document.ocr_confidence >= 0.8


def test_each_frame_of_a_multi_page_tiff_is_read(jane):
    content = scans.scan_tiff(scans.W2_LINES, scans.RECEIPT_LINES)
    document = run(scans.scan_document(jane, content, filename="fax.tiff"))

    assert document.page_count == 2
    assert "Northwind" in document.ocr_text.split("\f")[0]
    assert "CORNER OFFICE SUPPLY" in document.ocr_text.split("\f")[1]


def test_a_sideways_phone_photo_is_turned_upright_before_reading(jane):
    document = run(
        scans.scan_document(
            jane,
            scans.turned_photo_jpeg(),
            filename="receipt.jpg",
        )
    )

    assert "CORNER OFFICE SUPPLY" in document.ocr_text
    assert document.ocr_confidence >= 0.8
    assert document.suggested_category == "receipt"


def test_a_noisy_scan_lands_in_needs_review(jane):
    document = run(scans.scan_document(jane, scans.noisy_scan_png()))

    assert document.ocr_status == OcrStatus.NEEDS_REVIEW
    assert 0 < document.ocr_confidence < 0.8
    assert "Statement" in document.ocr_text


def test_the_firm_sets_the_confidence_below_which_a_document_needs_review(
    jane,
):
    with tenant_context(jane.organization):
        DocumentSettings.objects.create(
            organization=jane.organization, ocr_review_threshold=0.99
        )
    document = run(scans.scan_document(jane, scans.scan_png()))

    assert document.ocr_confidence < 0.99
    assert document.ocr_status == OcrStatus.NEEDS_REVIEW


def test_a_pdf_with_a_text_layer_gives_its_text_without_tesseract(jane, settings):
    # Any tesseract run would time out at once: the text must come from the layer.
    settings.OCR_PAGE_TIMEOUT = 0.001
    content = scans.text_layer_pdf(scans.BANK_STATEMENT_LINES)
    document = run(scans.scan_document(jane, content, filename="statement.pdf"))

    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.ocr_confidence == 1.0
    assert "Statement period January 1, 2025 to January 31, 2025" in document.ocr_text
    assert document.suggested_category == "bank_statement"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (scans.encrypted_pdf(), "The PDF is password-protected"),
        (scans.broken_pdf(), "The PDF is damaged"),
    ],
    ids=["encrypted", "broken"],
)
def test_an_unreadable_pdf_fails_at_once_with_its_reason(jane, content, reason):
    document = run(scans.scan_document(jane, content, filename="form.pdf"))

    assert document.outcome == OcrOutcome.DONE
    assert document.ocr_status == OcrStatus.FAILED
    assert document.ocr_error.startswith(reason)
    assert document.ocr_text == ""
    assert document.ocr_processed_at is not None


def test_office_documents_are_skipped(jane):
    document = run(
        scans.scan_document(
            jane,
            scans.workbook_xlsx(),
            filename="ledger.xlsx",
        )
    )

    assert document.ocr_status == OcrStatus.SKIPPED
    assert document.ocr_error == "OCR does not read this type of file."


def test_a_csv_file_is_its_own_text(jane):
    content = b"date,payee,amount\n2025-03-14,Corner Office Supply,89.29\n"
    document = run(scans.scan_document(jane, content, filename="expenses.csv"))

    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.ocr_confidence == 1.0
    assert "Corner Office Supply" in document.ocr_text


def test_a_document_already_read_is_not_read_again_unless_forced(jane):
    content = scans.text_layer_pdf(scans.BANK_STATEMENT_LINES)
    document = run(scans.scan_document(jane, content, filename="statement.pdf"))
    with tenant_context(document.organization):
        Document.objects.filter(pk=document.pk).update(ocr_text="edited\f")

    again = run(document)
    assert again.outcome == OcrOutcome.ALREADY_DONE
    assert again.ocr_text == "edited\f"

    forced = run(document, force=True)
    assert forced.outcome == OcrOutcome.DONE
    assert "Riverside Savings Bank" in forced.ocr_text


def test_a_run_left_processing_by_a_killed_worker_resumes_after_its_last_page(
    jane,
):
    content = scans.text_layer_pdf(scans.W2_LINES, scans.BANK_STATEMENT_LINES)
    document = scans.scan_document(jane, content, filename="two.pdf")
    with tenant_context(document.organization):
        # What a worker killed after page 1 leaves behind.
        Document.objects.filter(pk=document.pk).update(
            ocr_status=OcrStatus.PROCESSING,
            ocr_text="page one as read before\f",
            ocr_confidence=1.0,
            ocr_pages_done=1,
        )

    document = run(document)

    first, second, _ = document.ocr_text.split("\f")
    assert first == "page one as read before"
    assert "Riverside Savings Bank" in second
    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.ocr_pages_done == 2


def test_a_run_past_its_deadline_stops_after_a_page_and_the_next_goes_on(
    jane,
):
    content = scans.text_layer_pdf(
        scans.W2_LINES, scans.FORM_1099_LINES, scans.BANK_STATEMENT_LINES
    )
    document = scans.scan_document(jane, content, filename="three.pdf")

    first = run(document, deadline=time.monotonic())
    assert first.outcome == OcrOutcome.CONTINUE
    assert first.ocr_status == OcrStatus.PROCESSING
    assert (first.ocr_pages_done, first.page_count) == (1, 3)
    assert first.ocr_text.count("\f") == 1

    second = run(document, deadline=time.monotonic())
    assert second.outcome == OcrOutcome.CONTINUE
    assert second.ocr_pages_done == 2

    last = run(document, deadline=time.monotonic())
    assert last.outcome == OcrOutcome.DONE
    assert last.ocr_status == OcrStatus.COMPLETED
    assert [page.split("\n")[0] for page in last.ocr_text.split("\f")[:3]] == [
        scans.W2_LINES[0],
        scans.FORM_1099_LINES[0],
        scans.BANK_STATEMENT_LINES[0],
    ]


def test_a_document_another_run_holds_is_left_to_it(jane):
    document = scans.scan_document(
        jane,
        scans.text_layer_pdf(),
        filename="statement.pdf",
    )
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(hashtextextended('documents.ocr', %s))",
                [document.pk],
            )
        assert run(document).outcome == OcrOutcome.BUSY
        assert document.ocr_status == OcrStatus.PENDING
    finally:
        other.close()
    assert run(document).outcome == OcrOutcome.DONE


def test_an_upload_queues_its_ocr_for_the_commit_and_it_runs_in_the_firm(
    jane, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = scans.scan_document(
            jane, scans.text_layer_pdf(), filename="statement.pdf"
        )
        with tenant_context(document.organization):
            document.refresh_from_db()
            assert document.ocr_status == OcrStatus.PENDING  # not before the commit

    assert callbacks  # the upload's on-commit work, the OCR job among it
    with tenant_context(document.organization):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.COMPLETED
    assert "Riverside Savings Bank" in document.ocr_text


def test_enqueue_ocr_queues_for_the_commit(jane, django_capture_on_commit_callbacks):
    document = scans.scan_document(
        jane, scans.text_layer_pdf(), filename="statement.pdf"
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_ocr(document)

    assert len(callbacks) == 1
    with tenant_context(document.organization):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.COMPLETED
    # Sent to the OCR cluster, not the default one (run inline: sync mode).
    [task] = QTask.objects.all()
    assert task.cluster == "ocr"
    assert task.args == (
        OCR_JOB,
        document.organization_id,
        {"document_id": document.pk},
    )


def test_a_long_document_is_read_in_slices_that_each_fit_the_job_budget(
    jane, settings, django_capture_on_commit_callbacks
):
    settings.OCR_JOB_BUDGET = 0  # every slice stops after one page
    content = scans.text_layer_pdf(
        scans.W2_LINES, scans.FORM_1099_LINES, scans.BANK_STATEMENT_LINES
    )
    document = scans.scan_document(jane, content, filename="three.pdf")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_ocr(document)

    assert len(callbacks) == 3  # the first slice and two continuations
    with tenant_context(document.organization):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.ocr_text.count("\f") == 3


def test_a_person_confirming_a_document_takes_it_out_of_review(cast, jane):
    document = run(scans.scan_document(jane, scans.noisy_scan_png()))

    with tenant_context(document.organization):
        document = document_review_confirm(
            document=document, category="w2", tax_year=2025, reviewed_by=cast.sam
        )

    assert document.ocr_status == OcrStatus.COMPLETED
    assert (document.category, document.tax_year) == ("w2", 2025)
    assert document.retention_until == date(2032, 12, 31)
    assert document.reviewed_by == cast.sam
    assert document.reviewed_at is not None
    # Read again later, a confirmed document stays out of the queue.
    assert run(document, force=True).ocr_status == OcrStatus.COMPLETED


def test_a_tesseract_timeout_is_retried_with_backoff_then_fails(
    jane, settings, django_capture_on_commit_callbacks
):
    from django.utils import timezone
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    settings.OCR_PAGE_TIMEOUT = 0.001  # tesseract is killed on every page
    document = scans.scan_document(jane, scans.scan_png())

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_ocr(document)

    delays = []
    for attempt in (1, 2):
        [retry] = OrmQ.objects.all()  # waiting in the queue, locked until due
        assert retry.key == "ocr"  # the OCR cluster's queue
        assert retry.task["args"][2] == {
            "document_id": document.pk,
            "attempt": attempt,
        }
        delays.append((retry.lock - timezone.now()).total_seconds())
        with tenant_context(document.organization):
            document.refresh_from_db()
        assert document.ocr_status == OcrStatus.PROCESSING
        # Time passes: a worker takes the retry (inline here, sync mode).
        task = retry.task
        retry.delete()
        async_task(task["func"], *task["args"], sync=True)

    assert 25 < delays[0] <= 30 and 55 < delays[1] <= 60
    assert not OrmQ.objects.exists()
    with tenant_context(document.organization):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.FAILED
    assert document.ocr_error == (
        "Reading page 1 took longer than 0.001 seconds. (gave up after 3 attempts)"
    )
