"""Documents the firm shared with the client: the list, one document, its file.

A contact sees the versions marked visible to the client (each row on its own:
an earlier version shows only if it is shared too) of the clients whose grant
lets them see documents (portal.selectors.shared_documents). Anything else,
another client's or firm's included, answers 404. Every look and every copy
taken is a portal activity, never an event in a staff member's name.
"""

from __future__ import annotations

import logging
import zoneinfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from advisoros.http import get_only, is_uuid
from advisoros.pagination import keyset_page
from documents.models import Document
from documents.storage import document_download_response, shown_inline
from documents.upload import KIND
from portal.activity import portal_activity_record
from portal.decorators import portal_login_required
from portal.models import Activity, Capability
from portal.selectors import shared_documents, shared_documents_listed
from portal.session import PortalSession

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def _get_document(portal: PortalSession, document_uuid) -> Document:
    return get_object_or_404(shared_documents(portal), uuid=document_uuid)


def _type_label(mime_type: str) -> str:
    """ "PDF", "JPEG image", "Word document" (the upload checks' own words)."""
    kind = KIND.get(mime_type, "file").removeprefix("an ").removeprefix("a ")
    return kind[:1].upper() + kind[1:]


@portal_login_required
def document_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    portal = request.portal
    if not_allowed := get_only(request):
        return not_allowed
    clients = portal.clients(Capability.VIEW_DOCUMENTS)
    wanted = request.GET.get("client", "")
    client = next(
        (c for c in clients if is_uuid(wanted) and str(c.uuid) == wanted), None
    )
    documents = shared_documents_listed(portal)
    if client is not None:
        documents = documents.filter(client=client)
    # Query: one page of shared versions (their clients come from the grants).
    page = keyset_page(
        documents,
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    for document in portal.with_clients(page.rows):
        document.type_label = _type_label(document.mime_type)
    ctx = {
        "portal": portal,
        "portal_section": "documents",
        "page": page,
        "clients": clients,
        "client": client,
        "show_client": len(clients) > 1,
    }
    with timezone.override(zoneinfo.ZoneInfo(portal.organization.timezone)):
        return render(request, "portal/documents.html", ctx)


@portal_login_required
def document_detail(request: HttpRequest, org_slug: str, document_uuid) -> HttpResponse:
    portal = request.portal
    # Query: the shared version with its client.
    document = _get_document(portal, document_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    _record(request, portal, document, Activity.DOCUMENT_VIEWED, "Viewed")
    document.type_label = _type_label(document.mime_type)
    ctx = {
        "portal": portal,
        "portal_section": "documents",
        "document": document,
        "viewable": shown_inline(document),
        "show_client": len(portal.clients(Capability.VIEW_DOCUMENTS)) > 1,
    }
    with timezone.override(zoneinfo.ZoneInfo(portal.organization.timezone)):
        return render(request, "portal/document_detail.html", ctx)


@portal_login_required
def document_download(
    request: HttpRequest, org_slug: str, document_uuid
) -> HttpResponse:
    return _file(request, document_uuid, inline=False)


@portal_login_required
def document_view(request: HttpRequest, org_slug: str, document_uuid) -> HttpResponse:
    """Shown in the browser (PDFs, images); other types are downloaded."""
    return _file(request, document_uuid, inline=True)


def _file(request: HttpRequest, document_uuid, *, inline: bool) -> HttpResponse:
    portal = request.portal
    document = _get_document(portal, document_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    inline = inline and shown_inline(document)
    try:
        # The portal records the copy itself: the storage's event would name
        # request.user, a staff sign-in if one shares this browser.
        response = document_download_response(
            request, document, inline=inline, audit=False
        )
    except FileNotFoundError:
        logger.error(
            "Stored file missing: document %s (%s)", document.pk, document.file
        )
        messages.error(
            request,
            "This file cannot be opened right now. Please try again later, or "
            "ask the firm.",
        )
        return redirect(
            "portal:document_detail",
            org_slug=portal.organization.slug,
            document_uuid=document.uuid,
        )
    verb = "Opened" if inline else "Downloaded"
    _record(request, portal, document, Activity.DOCUMENT_DOWNLOADED, verb, inline)
    return response


def _record(
    request: HttpRequest,
    portal: PortalSession,
    document: Document,
    action: Activity,
    verb: str,
    inline: bool | None = None,
) -> None:
    detail = {
        "document": str(document.uuid),
        "version": document.version,
        "sha256": document.checksum,
    }
    if inline is not None:
        detail["inline"] = inline
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=action,
        request=request,
        contact=portal.contact,
        client=document.client,
        summary=f"{verb} “{document.title}”",
        detail=detail,
    )
