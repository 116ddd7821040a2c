"""Where document files live, and the only ways they leave.

The storage is Django's default one (settings.STORAGES): a local folder under
`var/media` unless S3 (or an S3-compatible server) is configured. Files are never
served by URL. A download goes through a view that has checked the member's
access (`documents.selectors.visible_documents`) and then through
`document_download_response`, which writes the audit event and answers with the
file itself (local folder) or with a redirect to a presigned link valid for
`querystring_expire` seconds (S3).
"""

from __future__ import annotations

import contextlib
from typing import IO

from django.core.files.storage import FileSystemStorage, Storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from documents.models import Document
from documents.upload import CheckedUpload, download_filename

# Shown in the browser (a PDF viewer, an image) rather than saved, on "view":
# a short list of types browsers render without running anything. Everything
# else (SVG, HTML, Office files, text ...) is always an attachment.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
# On every inline response: the file is its own sandboxed, script-less origin.
# A PNG that is also HTML (a polyglot) is served as image/png with nosniff, and
# even if some browser rendered it as a page, nothing in it could run or reach
# the app. Chromium will not show a PDF under a sandboxing CSP at all (measured:
# docs/decisions.md), so a PDF's scripts never run on "view".
INLINE_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline';"
    " frame-ancestors 'self'"
)


def document_storage() -> Storage:
    return Document._meta.get_field("file").storage


def storage_is_local(storage: Storage | None = None) -> bool:
    return isinstance(storage or document_storage(), FileSystemStorage)


def document_store(*, document: Document, upload: CheckedUpload) -> str:
    """Put a checked upload into storage under the document's path; returns the
    stored name. Locally the temporary file is renamed into place (same file
    system: no second copy); on S3 it is streamed up with its real type."""
    storage = document_storage()
    field = document.file.field
    upload.file.content_type = upload.mime_type  # S3's Content-Type
    name = field.generate_filename(document, upload.filename)
    if not storage_is_local(storage):
        # An S3 upload that fails is aborted whole: nothing is left to remove.
        name = storage.save(name, upload.file, max_length=field.max_length)
        document.file.name = name
        return name
    # Locally a rename, unless the temporary file is on another file system: then
    # a copy, which a full disk stops half way, leaving the part behind. The name
    # is taken first (the document's own uuid, so nobody else's file) so that
    # such a part can be removed.
    name = storage.get_available_name(name, max_length=field.max_length)
    try:
        name = storage.save(name, upload.file, max_length=field.max_length)
    except BaseException:
        with contextlib.suppress(OSError):
            storage.delete(name)
        raise
    document.file.name = name
    return name


def document_file_delete(name: str) -> None:
    """Remove a stored file (a failed insert's file, or a purge)."""
    if name:
        document_storage().delete(name)


def document_open(document: Document) -> IO[bytes]:
    """The stored bytes of a version, as a readable binary file."""
    return document.file.storage.open(document.file.name, "rb")


def shown_inline(document: Document) -> bool:
    """Whether "view" shows the version in the browser: an allowed type, no
    scripts (a PDF with JavaScript or automatic actions is download-only)."""
    return document.mime_type in INLINE_TYPES and not document.has_scripts


def quarantined_response(request: HttpRequest, document: Document) -> HttpResponse:
    """What a download or view of a quarantined version gets: a refusal, never
    the bytes."""
    response = HttpResponse(
        render_to_string(
            "documents/quarantined.html", {"document": document}, request=request
        ),
        status=403,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def unchecked_response(request: HttpRequest, document: Document) -> HttpResponse:
    """What a download or view of a version with no verdict yet gets: 409 with
    Retry-After while the scan job is to come (PENDING), 403 once it could not be
    checked (FAILED). Never the bytes."""
    pending = document.is_scan_pending
    response = HttpResponse(
        render_to_string(
            "documents/scan_pending.html",
            {"document": document, "pending": pending},
            request=request,
        ),
        status=409 if pending else 403,
    )
    if pending:
        response["Retry-After"] = "5"
    response["Cache-Control"] = "private, no-store"
    return response


def document_download_response(
    request: HttpRequest,
    document: Document,
    *,
    inline: bool = False,
    audit: bool = True,
) -> HttpResponse:
    """The file of one version, to a member whose access the caller has checked.

    Writes DOCUMENT_VIEWED (inline) or DOCUMENT_DOWNLOADED with the version and
    checksum, and the request's address. Inline only for types a browser shows
    safely (`shown_inline`), under INLINE_CSP; anything else is offered as an
    attachment. Always `nosniff`. A quarantined version is refused (403 page), and
    so is one not yet checked for viruses (`unchecked_response`).

    `audit=False` is for a caller that is not a member and records the access
    itself (the client portal): the event here names `request.user`, which on a
    portal page is at best nobody and at worst a staff sign-in in the same browser.
    """
    if document.is_quarantined:
        return quarantined_response(request, document)
    if not document.is_servable:
        return unchecked_response(request, document)
    inline = inline and shown_inline(document)
    filename = download_filename(document.original_filename, document.mime_type)
    storage = document.file.storage
    if storage_is_local(storage):
        handle = document_open(document)  # FileNotFoundError before any audit
        response: HttpResponse = FileResponse(
            handle,
            as_attachment=not inline,
            filename=filename,
            content_type=document.mime_type,
        )
    else:
        url = storage.url(
            document.file.name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(
                    not inline, filename
                ),
                "ResponseContentType": document.mime_type,
                "ResponseCacheControl": "private, no-store",
            },
        )
        response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        response["Content-Security-Policy"] = INLINE_CSP
    if not audit:
        return response
    audit_event_record(
        action=AuditAction.DOCUMENT_VIEWED
        if inline
        else AuditAction.DOCUMENT_DOWNLOADED,
        organizations=[document.organization_id],
        actor=request.user,
        target=f"{document.title} (version {document.version})",
        request=request,
        detail={
            "document": str(document.uuid),
            "version": document.version,
            "checksum": document.checksum,
            "client": str(document.client.uuid),
        },
    )
    return response
