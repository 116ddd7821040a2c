"""The needs-review queue, a document's OCR status panel and its extracted text."""

from __future__ import annotations

from django.utils import timezone

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from clients.models import Client
from documents.models import AccessLevel, Document, OcrStatus
from documents.services.ocr import document_ocr_run
from tests.documents import scans

URL = "/o/alpha/documents/review/"
HTMX = {"HX-Request": "true"}


def read_document(client: Client, title: str = "W-2 scan", **ocr) -> Document:
    """A stored document whose OCR already ran with the given outcome."""
    document = scans.scan_document(
        client,
        scans.text_layer_pdf(scans.W2_LINES),
        filename=f"{title}.pdf",
        title=title,
    )
    fields = {
        "ocr_status": OcrStatus.NEEDS_REVIEW,
        "ocr_confidence": 0.61,
        "page_count": 1,
        "ocr_pages_done": 1,
        "ocr_text": "Form W-2 Wage and Tax Statement 2025\nNorthwind Traders\f",
        "ocr_processed_at": timezone.now(),
        "suggested_category": "w2",
        "suggested_tax_year": 2025,
        "suggestion_confidence": 0.82,
        "suggestion_reasons": ["Found “Wage and Tax Statement”"],
        **ocr,
    }
    with tenant_context(client.organization):
        Document.objects.filter(pk=document.pk).update(**fields)
        document.refresh_from_db()
    return document


def rows(response) -> list[str]:
    return [row.title for row in response.context["page"].rows]


def test_a_noisy_scan_shows_in_the_queue_with_its_suggestion(cast, login_as, jane):
    document = scans.scan_document(jane, scans.noisy_scan_png(), title="Crumpled W-2")
    with tenant_context(cast.alpha):
        document_ocr_run(document_id=document.pk)

    response = login_as(cast.sam).get(URL)

    assert response.status_code == 200
    assert rows(response) == ["Crumpled W-2"]
    html = response.content.decode()
    assert "W-2" in html and "% sure" in html
    assert "Wage" in html  # the excerpt of the text
    assert 'data-testid="confirm"' in html


def test_failed_documents_have_their_own_tab_with_the_reason(cast, login_as, jane):
    read_document(jane, "Waiting for review")
    read_document(
        jane,
        "Locked PDF",
        ocr_status=OcrStatus.FAILED,
        ocr_error="The PDF is password-protected, so its text cannot be read.",
        ocr_confidence=None,
    )
    client = login_as(cast.sam)

    review = client.get(URL)
    failed = client.get(URL, {"tab": "failed"})

    assert rows(review) == ["Waiting for review"]
    assert rows(failed) == ["Locked PDF"]
    assert "password-protected" in failed.content.decode()
    assert 'data-testid="rerun"' in failed.content.decode()
    assert review.context["counts"] == {"review": 1, "failed": 1}


def test_completed_documents_and_older_versions_are_not_in_the_queue(
    cast, login_as, jane
):
    read_document(jane, "Read fine", ocr_status=OcrStatus.COMPLETED)
    read_document(jane, "Old version", is_latest_version=False)

    response = login_as(cast.sam).get(URL)

    assert rows(response) == []
    assert "Nothing to review" in response.content.decode()


def test_the_queue_makes_the_same_number_of_queries_for_2_or_30_documents(
    cast, login_as, jane, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(URL)  # the first request also writes the session
    made = 0
    for count in (2, 30):
        for i in range(count - made):
            read_document(jane, f"Scan {made + i}")
        made = count
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the count in each tab, 6 a page of
        # documents with their clients (the text cut to an excerpt in the database), 7
        # reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(URL)
        assert response.status_code == 200
    assert len(rows(response)) == 25
    assert response.context["page"].has_next


def test_the_next_page_starts_after_the_last_row(cast, login_as, jane):
    for i in range(27):
        read_document(jane, f"Scan {i:02}")
    client = login_as(cast.sam)

    first = client.get(URL)
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})

    assert rows(first) == [f"Scan {i:02}" for i in range(25)]
    assert rows(second) == ["Scan 25", "Scan 26"]


def test_staff_confirm_the_category_and_tax_year_and_the_row_is_swapped(
    cast, login_as, jane
):
    document = read_document(jane)
    url = f"/o/alpha/documents/{document.uuid}/review/"

    response = login_as(cast.sam).post(
        url, {"category": "w2", "tax_year": "2025"}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<tr class="review-row review-done"')
    assert "Confirmed as W-2, 2025." in html
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert (document.category, document.tax_year) == ("w2", 2025)
    assert document.ocr_status == OcrStatus.COMPLETED
    assert document.reviewed_by == cast.sam
    assert document.reviewed_at is not None
    assert rows(login_as(cast.sam).get(URL)) == []


def test_without_htmx_confirming_goes_back_to_the_queue_with_a_message(
    cast, login_as, jane
):
    document = read_document(jane)
    client = login_as(cast.sam)

    response = client.post(
        f"/o/alpha/documents/{document.uuid}/review/",
        {"category": "1099", "tax_year": "", "next": URL + "?tab=review"},
        follow=True,
    )

    assert response.redirect_chain == [(URL + "?tab=review", 302)]
    assert "W-2 scan: confirmed as 1099." in response.content.decode()
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert (document.category, document.tax_year) == ("1099", None)


def test_a_bad_category_or_year_is_refused_and_nothing_changes(cast, login_as, jane):
    document = read_document(jane)
    url = f"/o/alpha/documents/{document.uuid}/review/"
    client = login_as(cast.sam)

    response = client.post(url, {"category": "w2", "tax_year": "1066"}, headers=HTMX)
    client.post(url, {"category": "poem", "tax_year": "2025"}, headers=HTMX)

    assert "Enter a year from 1900 to 2200." in response.content.decode()
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.NEEDS_REVIEW
    assert document.reviewed_at is None
    assert document.category == "other"


def test_a_read_only_member_sees_the_queue_but_cannot_confirm(cast, login_as, jane):
    document = read_document(jane)
    client = login_as(cast.rita)

    page = client.get(URL)
    confirm = client.post(
        f"/o/alpha/documents/{document.uuid}/review/", {"category": "w2"}
    )
    rerun = client.post(f"/o/alpha/documents/{document.uuid}/ocr-rerun/")

    assert rows(page) == ["W-2 scan"]
    assert 'data-testid="confirm"' not in page.content.decode()
    assert confirm.status_code == rerun.status_code == 403


def test_another_firms_document_is_not_found(cast, login_as, jane):
    document = read_document(jane)
    client = login_as(cast.oscar)
    crossed = f"/o/beta/documents/{document.uuid}"

    for path in ("review/", "ocr-rerun/", "ocr-status/", "ocr-text/"):
        assert client.post(f"{crossed}/{path}", {"category": "w2"}).status_code == 404
    for path in ("ocr-status/", "ocr-text/"):
        assert client.get(f"{crossed}/{path}").status_code == 404
    assert client.get(URL).status_code == 404  # not a member of Alpha
    assert rows(client.get("/o/beta/documents/review/")) == []


def test_a_confidential_document_stays_out_of_staffs_queue(cast, login_as, jane):
    secret = read_document(jane, "Partner's K-1", access_level=AccessLevel.CONFIDENTIAL)
    sam = login_as(cast.sam)

    assert rows(sam.get(URL)) == []
    response = sam.post(f"/o/alpha/documents/{secret.uuid}/review/", {"category": "k1"})
    assert response.status_code == 404
    assert rows(login_as(cast.adam).get(URL)) == ["Partner's K-1"]


def test_try_again_reads_a_failed_document_once_more(
    cast, login_as, jane, django_capture_on_commit_callbacks
):
    document = read_document(
        jane,
        ocr_status=OcrStatus.FAILED,
        ocr_error="Reading page 1 took longer than 30 seconds.",
    )
    client = login_as(cast.sam)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/o/alpha/documents/{document.uuid}/ocr-rerun/", headers=HTMX
        )

    assert "Queued to be read again." in response.content.decode()
    with tenant_context(cast.alpha):
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.COMPLETED  # a text layer: read at once
    assert document.ocr_error == ""
    assert "Wage and Tax Statement" in document.ocr_text


# The status panel on the document page --------------------------------------------


def status_of(client, document: Document) -> str:
    response = client.get(
        f"/o/alpha/documents/{document.uuid}/ocr-status/", headers=HTMX
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_status_panel_polls_itself_while_the_document_is_read(cast, login_as, jane):
    document = read_document(
        jane,
        ocr_status=OcrStatus.PROCESSING,
        page_count=5,
        ocr_pages_done=1,
        ocr_text="",
    )

    html = status_of(login_as(cast.rita), document)

    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/o/alpha/documents/{document.uuid}/ocr-status/"' in html
    assert "Page 2 of 5" in html
    assert '<progress class="ocr-bar" max="5" value="1"' in html


def test_a_pending_document_polls_too(cast, login_as, jane):
    document = read_document(jane, ocr_status=OcrStatus.PENDING)

    html = status_of(login_as(cast.sam), document)

    assert 'hx-trigger="every 2s"' in html
    assert "Queued to be read" in html


def test_once_read_the_panel_stops_polling_and_shows_the_outcome(cast, login_as, jane):
    document = read_document(
        jane,
        ocr_status=OcrStatus.COMPLETED,
        ocr_confidence=0.953,
        page_count=2,
        ocr_pages_done=2,
        category="w2",
        suggestion_confidence=0.97,
    )

    html = status_of(login_as(cast.sam), document)

    assert 'hx-trigger="every' not in html
    assert "95% confidence · 2 pages" in html
    assert "Suggested: <strong>W-2</strong>, tax year <strong>2025</strong>" in html
    assert "97% sure; applied" in html
    assert "Found “Wage and Tax Statement”" in html
    assert f'hx-get="/o/alpha/documents/{document.uuid}/ocr-text/"' in html


def test_a_failed_document_shows_its_reason_and_staff_may_try_again(
    cast, login_as, jane
):
    document = read_document(
        jane,
        ocr_status=OcrStatus.FAILED,
        ocr_error="The PDF is damaged and cannot be opened.",
    )

    staff = status_of(login_as(cast.sam), document)
    read_only = status_of(login_as(cast.rita), document)

    assert "The PDF is damaged and cannot be opened." in staff
    assert 'data-testid="ocr-rerun"' in staff
    assert 'data-testid="ocr-rerun"' not in read_only


def test_the_extracted_text_is_shown_page_by_page_and_the_view_audited(
    cast, login_as, jane
):
    document = read_document(
        jane,
        ocr_status=OcrStatus.COMPLETED,
        ocr_text="First page words\fSecond page words\f",
        page_count=2,
    )
    client = login_as(cast.rita)

    preview = client.get(f"/o/alpha/documents/{document.uuid}/ocr-text/", headers=HTMX)
    page = client.get(f"/o/alpha/documents/{document.uuid}/ocr-text/")

    assert preview.context["pages"] == ["First page words", "Second page words"]
    assert "<html" not in preview.content.decode()
    assert "Page 2" in page.content.decode()
    assert page.context["pages"] == ["First page words", "Second page words"]
    with tenant_context(cast.alpha):
        events = AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.DOCUMENT_VIEWED
        )
        assert events.count() == 2
        assert events.first().detail["what"] == "extracted text"
        assert events.first().actor == cast.rita
