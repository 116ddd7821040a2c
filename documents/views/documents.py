"""Documents of a client: upload, detail with version history, new version,
restore, metadata, download and view, and the client page's Documents tab.

Every document is loaded through `visible_documents(request)` (the access rules):
another firm's document, or one the member may not see, is a 404.

Uploads are read by `documents.upload.DocumentUploadHandler`, which must be on
the request before anything reads the body; Django's CSRF check reads the body
of a form, so the upload views are exempt from the middleware's check and run
the same check themselves (`documents.receiving.csrf_rejection`) once the
handler is in place.
"""

from __future__ import annotations

import logging
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisoros.forms import form_error_text
from advisoros.http import get_only
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from clients.selectors import get_client_or_404
from clients.tabs import client_tab_url
from documents.forms import DocumentEditForm, UploadForm, VersionForm
from documents.models import AccessLevel, Document, DocumentAccess, DocumentCategory
from documents.receiving import (
    Outcome,
    answer,
    csrf_rejection,
    install_handler,
    receive,
    refused_unread,
    store_each,
    too_large_unread,
)
from documents.selectors import visible_documents
from documents.services import documents as services
from documents.storage import document_download_response, shown_inline
from documents.upload import (
    IncomingFile,
    UploadOverPlan,
    UploadQuarantined,
    UploadRejected,
)

# A form without JavaScript may send several files in one request; the body is
# refused unread beyond this many files at the firm's limit.
MAX_FILES_PER_REQUEST = 20
TAB_SHOWN = 500
UPLOAD_TOKEN_SECONDS = 60 * 60
logger = logging.getLogger(__name__)
CATEGORY_ORDER = {value: i for i, value in enumerate(DocumentCategory.values)}


def _get_document(request: OrgRequest, document_uuid) -> Document:
    """A version the member may see; anything else is not found."""
    return get_object_or_404(
        visible_documents(request).select_related(
            "client", "engagement", "uploaded_by", "uploaded_by_contact"
        ),
        uuid=document_uuid,
    )


def _detail_url(request: OrgRequest, document: Document) -> str:
    return reverse(
        "documents:document_detail",
        kwargs={"org_slug": request.organization.slug, "document_uuid": document.uuid},
    )


# Uploads ------------------------------------------------------------------------


def _stored_outcome(request: OrgRequest, name: str, document: Document) -> Outcome:
    what = (
        f"{name} uploaded."
        if document.version == 1
        else f"{name} uploaded as version {document.version} of {document.title}."
    )
    if document.is_scan_pending:
        # Scanned by a job after this answer: the owners and admins are
        # alerted (email) if it turns out infected.
        what = (
            what[:-1]
            + "; checking it for viruses (it opens once the check has passed)."
        )
    outcome = Outcome(name, True, what, url=_detail_url(request, document))
    if document.duplicate_of_id:
        outcome.duplicate = True
        twin = (
            visible_documents(request)
            .filter(pk=document.duplicate_of_id)
            .values_list("title", "version")
            .first()
        )
        outcome.message += (
            f" It is identical to “{twin[0]}” (version {twin[1]}) already on file"
            " for this client."
            if twin
            else " It is identical to a document already on file for this client."
        )
    return outcome


def _naming_what_was_found(store):
    """Staff are told what the scanner found in a quarantined upload, and which
    limit of the firm's plan refused a file (the portal's wording names neither)."""

    def wrapped(file: IncomingFile) -> Document:
        try:
            return store(file)
        except (UploadQuarantined, UploadOverPlan) as exc:
            raise UploadRejected(exc.staff_message) from exc

    return wrapped


@csrf_exempt  # checked in _receive, after the upload handler is installed
@require_role(Role.STAFF)
def document_upload(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    back = reverse(
        "documents:document_upload",
        kwargs={"org_slug": org_slug, "client_uuid": client.uuid},
    )
    if request.method != "POST":
        ctx = {
            "client": client,
            "form": UploadForm(client=client),
            "max_upload_bytes": services.max_upload_bytes(request.organization.pk),
        }
        return render(request, "documents/upload.html", ctx)
    handler = install_handler(request, request.organization.pk)
    if too_large_unread(request, handler):
        return refused_unread(request, handler, back)
    if rejection := csrf_rejection(request):
        return rejection
    received = receive(request, handler)
    form = UploadForm(received.fields, client=client)
    if not form.is_valid():
        received.close()
        message = form_error_text(form)
        received.outcomes += [
            Outcome(f.original_name, False, message) for f in received.files
        ]
        received.files = []
        return answer(request, received, done=back, back=back)
    data = form.cleaned_data

    @_naming_what_was_found
    def store(file: IncomingFile) -> Document:
        return services.document_create(
            client=client,
            file=file,
            filename=file.original_name,
            uploaded_by=request.user,
            category=data["category"],
            tax_year=data["tax_year"],
            engagement=data["engagement"],
            tags=data["tags"],
            access_level=data["access_level"],
            visible_to_client=data["visible_to_client"],
        )

    store_each(
        request.organization.pk,
        received,
        data["upload_token"],
        store,
        partial(_stored_outcome, request),
    )
    return answer(
        request,
        received,
        done=client_tab_url(request, client, "documents"),
        back=back,
    )


@csrf_exempt  # checked in _receive, after the upload handler is installed
@require_role(Role.STAFF)
def document_version_upload(
    request: OrgRequest, org_slug: str, document_uuid
) -> HttpResponse:
    document = _get_document(request, document_uuid)
    back = reverse(
        "documents:document_version_upload",
        kwargs={"org_slug": org_slug, "document_uuid": document.uuid},
    )
    if request.method != "POST":
        ctx = {
            "document": document,
            "client": document.client,
            "form": VersionForm(),
            "max_upload_bytes": services.max_upload_bytes(request.organization.pk),
        }
        return render(request, "documents/version_upload.html", ctx)
    handler = install_handler(request, request.organization.pk)
    if too_large_unread(request, handler):
        return refused_unread(request, handler, back)
    if rejection := csrf_rejection(request):
        return rejection
    received = receive(request, handler)
    form = VersionForm(received.fields)
    token = form.cleaned_data["upload_token"] if form.is_valid() else ""
    newest: list[Document] = []

    @_naming_what_was_found
    def store(file: IncomingFile) -> Document:
        version = services.document_add_version(
            document=document,
            file=file,
            filename=file.original_name,
            uploaded_by=request.user,
        )
        newest.append(version)
        return version

    store_each(
        request.organization.pk,
        received,
        token,
        store,
        partial(_stored_outcome, request),
    )
    done = _detail_url(request, newest[-1]) if newest else back
    return answer(request, received, done=done, back=back)


# Detail, edit, restore ----------------------------------------------------------


def _lineage(request: OrgRequest, document: Document) -> list[Document]:
    root_id = document.root_id
    return list(
        visible_documents(request)
        .filter(Q(pk=root_id) | Q(parent_document_id=root_id))
        .select_related("uploaded_by", "uploaded_by_contact", "restored_from")
        .defer("ocr_text", "search_vector")
        .order_by("-version")
    )


@require_role(Role.READONLY)
def document_detail(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    document = _get_document(request, document_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    if request.headers.get("HX-Request") and not document.is_scan_pending:
        # The "Checking…" notice's poll (document_detail.html): the verdict has
        # come, so the page's buttons and notices change: reload it whole.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    versions = _lineage(request, document)
    for row in [document, *versions]:
        row.viewable = shown_inline(row)
    latest = next((v for v in versions if v.is_latest_version), document)
    named = []
    if latest.access_level == AccessLevel.RESTRICTED:
        named = list(
            DocumentAccess.objects.filter(
                organization=request.organization, document_id=document.root_id
            )
            .select_related("user")
            .order_by("user__name")
        )
    twin = None
    if document.duplicate_of_id:
        twin = visible_documents(request).filter(pk=document.duplicate_of_id).first()
    with firm_time(request):
        ctx = {
            "document": document,
            "latest": latest,
            "client": document.client,
            "versions": versions,
            "named": named,
            "twin": twin,
            "can_write": request.membership.can_write,
            "can_hold": request.membership.has_role(Role.ADMIN),
        }
        return render(request, "documents/document_detail.html", ctx)


@require_role(Role.STAFF)
def document_edit(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    document = _get_document(request, document_uuid)
    client = document.client
    root_id = document.root_id
    initial = {
        "title": document.title,
        "category": document.category,
        "tax_year": document.tax_year,
        "engagement": document.engagement,
        "tags": document.tags,
        "description": document.description,
        "access_level": document.access_level,
        "visible_to_client": document.visible_to_client,
        "access_users": list(
            DocumentAccess.objects.filter(
                organization=request.organization, document_id=root_id
            ).values_list("user_id", flat=True)
        ),
    }
    form = DocumentEditForm(request.POST or None, initial=initial, client=client)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        access_users = data.pop("access_users")
        try:
            services.document_update(
                document=document, data=data, access_users=access_users
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Document saved.")
            return redirect(_detail_url(request, document))
    ctx = {"document": document, "client": client, "form": form}
    return render(request, "documents/document_edit.html", ctx)


@require_POST
@require_role(Role.STAFF)
def document_restore(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    version = _get_document(request, document_uuid)
    if version.is_latest_version:
        messages.info(request, f"Version {version.version} is already the latest.")
        return redirect(_detail_url(request, version))
    try:
        restored = services.document_restore_version(
            version=version, restored_by=request.user
        )
    except UploadRejected as exc:
        messages.error(request, getattr(exc, "staff_message", exc.message))
        return redirect(_detail_url(request, version))
    messages.success(
        request,
        f"Version {version.version} restored as version {restored.version}.",
    )
    return redirect(_detail_url(request, restored))


# Files ----------------------------------------------------------------------------


def _file_response(request: OrgRequest, document_uuid, *, inline: bool) -> HttpResponse:
    document = _get_document(request, document_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    try:
        return document_download_response(request, document, inline=inline)
    except FileNotFoundError:
        # An integrity problem, not the member's: say so on the document's page.
        logger.error(
            "Stored file missing: document %s (%s)", document.pk, document.file
        )
        messages.error(
            request,
            f"The file of version {document.version} is missing from storage."
            " Please tell an administrator.",
        )
        return redirect(_detail_url(request, document))


@require_role(Role.READONLY)
def document_download(
    request: OrgRequest, org_slug: str, document_uuid
) -> HttpResponse:
    return _file_response(request, document_uuid, inline=False)


@require_role(Role.READONLY)
def document_view(request: OrgRequest, org_slug: str, document_uuid) -> HttpResponse:
    """Shown in the browser (PDFs, images); other types are downloaded."""
    return _file_response(request, document_uuid, inline=True)


# The client page's Documents tab -------------------------------------------------


def client_documents_context(request: OrgRequest, client: Client) -> dict:
    """Latest versions grouped by tax year (newest first), then category.

    Query: the visible latest versions of the client, with their uploaders and the
    number of versions of each lineage (a subquery on the lineage index).
    """
    lineage_size = (
        Document.objects.filter(
            organization_id=OuterRef("organization_id"),
        )
        .annotate(root=Coalesce("parent_document_id", "id"))
        .filter(root=Coalesce(OuterRef("parent_document_id"), OuterRef("pk")))
        .values("root")
        .annotate(n=Count("pk"))
        .values("n")
    )
    documents = list(
        visible_documents(request)
        .filter(client=client, is_latest_version=True)
        .select_related("uploaded_by", "uploaded_by_contact")
        .defer("ocr_text", "search_vector")
        .annotate(version_count=Subquery(lineage_size, output_field=IntegerField()))
        .order_by(F("tax_year").desc(nulls_last=True), "category", "title", "pk")[
            : TAB_SHOWN + 1
        ]
    )
    capped = len(documents) > TAB_SHOWN
    documents = documents[:TAB_SHOWN]
    labels = dict(DocumentCategory.choices)
    detail_url = row_url(
        "documents:document_detail",
        "document_uuid",
        org_slug=request.organization.slug,
    )
    groups: list[dict] = []
    for document in sorted(
        documents,
        key=lambda d: (
            -(d.tax_year or 0),
            CATEGORY_ORDER.get(d.category, 99),
            d.title.lower(),
        ),
    ):
        if not groups or groups[-1]["tax_year"] != document.tax_year:
            groups.append({"tax_year": document.tax_year, "categories": []})
        categories = groups[-1]["categories"]
        if not categories or categories[-1]["category"] != document.category:
            categories.append(
                {
                    "category": document.category,
                    "label": labels.get(document.category, document.category),
                    "documents": [],
                }
            )
        document.size_text = filesizeformat(document.size)
        document.url = detail_url(document.uuid)
        categories[-1]["documents"].append(document)
    return {
        "document_groups": groups,
        "documents_capped": capped,
        "documents_shown": len(documents),
    }


urlpatterns = [
    path(
        "clients/<uuid:client_uuid>/documents/upload/",
        document_upload,
        name="document_upload",
    ),
    path("documents/<uuid:document_uuid>/", document_detail, name="document_detail"),
    path("documents/<uuid:document_uuid>/edit/", document_edit, name="document_edit"),
    path(
        "documents/<uuid:document_uuid>/versions/new/",
        document_version_upload,
        name="document_version_upload",
    ),
    path(
        "documents/<uuid:document_uuid>/restore/",
        document_restore,
        name="document_restore",
    ),
    path(
        "documents/<uuid:document_uuid>/download/",
        document_download,
        name="document_download",
    ),
    path("documents/<uuid:document_uuid>/view/", document_view, name="document_view"),
]
