"""OCR pages: the needs-review queue, a document's OCR status (polled while it
runs), its extracted text, confirming a category and reading a document again."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.db.models.functions import Substr
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.forms import form_error_text
from advisoros.http import get_only
from advisoros.pagination import keyset_page
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from documents.forms_review import ReviewConfirmForm
from documents.models import Document, DocumentCategory, OcrStatus
from documents.ocr import PAGE_BREAK
from documents.selectors import review_queue_counts, visible_documents
from documents.services import ocr as services

PAGE_SIZE = 25
EXCERPT_CHARS = 280
PREVIEW_CHARS = 20_000
TABS = {"review": OcrStatus.NEEDS_REVIEW, "failed": OcrStatus.FAILED}
# What a queue row shows (the text only as an excerpt, cut in the database).
ROW_FIELDS = (
    "uuid",
    "title",
    "original_filename",
    "created_at",
    "category",
    "tax_year",
    "ocr_status",
    "ocr_confidence",
    "page_count",
    "ocr_error",
    "suggested_category",
    "suggested_tax_year",
    "suggestion_confidence",
    "suggestion_reasons",
    "reviewed_at",
    "client__uuid",
    "client__display_name",
)


def _get_document(request: OrgRequest, document_uuid) -> Document:
    return get_object_or_404(
        visible_documents(request)
        .select_related("client")
        .defer("ocr_text", "search_vector"),
        uuid=document_uuid,
    )


def _queue(request: OrgRequest, status: str) -> QuerySet[Document]:
    return (
        visible_documents(request)
        .filter(is_latest_version=True, archived_at__isnull=True, ocr_status=status)
        .select_related("client")
        .only(*ROW_FIELDS)
        .annotate(excerpt=Substr("ocr_text", 1, EXCERPT_CHARS + 40))
    )


def _prepare_row(row: Document, document_url, client_url) -> Document:
    """What the row template shows, computed once here rather than in the template."""
    row.detail_url = document_url(row.uuid)
    row.client_url = client_url(row.client.uuid)
    text = " ".join((getattr(row, "excerpt", "") or "").split())
    row.excerpt_text = text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
    row.suggested_label = (
        DocumentCategory(row.suggested_category).label if row.suggested_category else ""
    )
    row.form_category = (
        row.suggested_category
        if row.category == DocumentCategory.OTHER and row.suggested_category
        else row.category
    )
    row.form_tax_year = row.tax_year or row.suggested_tax_year or ""
    return row


def _row_urls(request: OrgRequest):
    slug = request.organization.slug
    return (
        row_url("documents:document_detail", "document_uuid", org_slug=slug),
        row_url("clients:client_detail", "client_uuid", org_slug=slug),
    )


@require_GET
@require_role(Role.READONLY)
def review_queue(request: OrgRequest, org_slug: str) -> HttpResponse:
    tab = request.GET.get("tab", "review")
    if tab not in TABS:
        tab = "review"
    # Query: how many documents wait in each tab.
    counts = review_queue_counts(request)
    # Query: one page of the tab's documents with their clients, oldest first.
    page = keyset_page(
        _queue(request, TABS[tab]),
        keys=("created_at", "id"),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    document_url, client_url = _row_urls(request)
    for row in page.rows:
        _prepare_row(row, document_url, client_url)
    with firm_time(request):
        ctx = {
            "tab": tab,
            "counts": counts,
            "page": page,
            "categories": DocumentCategory.choices,
            "can_write": request.membership.can_write,
            "back": request.get_full_path(),
        }
        if request.htmx and not request.htmx.history_restore_request:
            response = render(request, "documents/review_queue.html#results", ctx)
        else:
            response = render(request, "documents/review_queue.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _row_response(
    request: OrgRequest, document: Document, *, note: str = "", form=None
) -> HttpResponse:
    row = _queue(request, document.ocr_status).filter(pk=document.pk).first()
    if row is None:  # left the queue's status: show it with what it became
        row = document
    _prepare_row(row, *_row_urls(request))
    ctx = {
        "row": row,
        "note": note,
        "form": form,
        "categories": DocumentCategory.choices,
        "can_write": request.membership.can_write,
        "back": _back(request, document),
    }
    with firm_time(request):
        return render(request, "documents/review_queue.html#row", ctx)


def _back(request: OrgRequest, document: Document) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(
        "documents:document_detail",
        kwargs={"org_slug": request.organization.slug, "document_uuid": document.uuid},
    )


@require_POST
@require_role(Role.STAFF)
def review_confirm(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    document = _get_document(request, document_uuid)
    form = ReviewConfirmForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return _row_response(request, document, form=form)
        messages.error(request, form_error_text(form))
        return redirect(_back(request, document))
    document = services.document_review_confirm(
        document=document,
        category=form.cleaned_data["category"],
        tax_year=form.cleaned_data["tax_year"],
        reviewed_by=request.user,
    )
    note = f"Confirmed as {document.get_category_display()}" + (
        f", {document.tax_year}" if document.tax_year else ""
    )
    if request.htmx:
        return _row_response(request, document, note=note)
    messages.success(request, f"{document.title}: {note.lower()}.")
    return redirect(_back(request, document))


@require_POST
@require_role(Role.STAFF)
def ocr_rerun(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    document = _get_document(request, document_uuid)
    if document.ocr_status in (OcrStatus.PENDING, OcrStatus.PROCESSING):
        note = "Already being read."
    else:
        document = services.document_ocr_requeue(document=document)
        note = "Queued to be read again."
    if request.htmx and request.POST.get("from") == "status":
        return _status_response(request, document)
    if request.htmx:
        return _row_response(request, document, note=note)
    messages.success(request, f"{document.title}: {note.lower()}")
    return redirect(_back(request, document))


def _status_response(request: OrgRequest, document: Document) -> HttpResponse:
    ctx = {"document": document, "can_write": request.membership.can_write}
    with firm_time(request):
        return render(request, "documents/ocr_status.html", ctx)


@require_role(Role.READONLY)
def ocr_status(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    """The OCR status panel; while the document is being read it polls this URL."""
    document = _get_document(request, document_uuid)
    if answer := get_only(request):
        return answer
    response = _status_response(request, document)
    response["Cache-Control"] = "private, no-store"
    return response


@require_role(Role.READONLY)
def ocr_text(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    """The text read from a document, page by page (a page of its own, or the
    preview in the status panel). Reading it is viewing the document: audited."""
    document = _get_document(request, document_uuid)
    if answer := get_only(request):
        return answer
    text = Document.objects.filter(pk=document.pk).values_list("ocr_text", flat=True)
    text = text.get()
    preview = bool(request.htmx)
    shown = text[:PREVIEW_CHARS] if preview else text
    pages = [page.strip() for page in shown.split(PAGE_BREAK)]
    if pages and not pages[-1]:
        pages.pop()
    audit_event_record(
        action=AuditAction.DOCUMENT_VIEWED,
        organizations=[document.organization_id],
        actor=request.user,
        target=f"{document.title} (version {document.version})",
        request=request,
        detail={
            "document": str(document.uuid),
            "version": document.version,
            "client": str(document.client.uuid),
            "what": "extracted text",
        },
    )
    ctx = {
        "document": document,
        "client": document.client,
        "pages": pages,
        "cut": preview and len(text) > PREVIEW_CHARS,
    }
    template = "documents/ocr_text.html" + ("#pages" if preview else "")
    with firm_time(request):
        response = render(request, template, ctx)
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns = [
    path("documents/review/", review_queue, name="review_queue"),
    path(
        "documents/<uuid:document_uuid>/review/",
        review_confirm,
        name="review_confirm",
    ),
    path("documents/<uuid:document_uuid>/ocr-status/", ocr_status, name="ocr_status"),
    path("documents/<uuid:document_uuid>/ocr-text/", ocr_text, name="ocr_text"),
    path("documents/<uuid:document_uuid>/ocr-rerun/", ocr_rerun, name="ocr_rerun"),
]
