"""A document request in the portal: its items, uploads from the phone, removal.

Reached by a signed-in contact whose grant on the request's client allows
uploads, or by a redeemed request link for this request only. Uploads go through
the same validation and storage as staff uploads (documents.receiving and
documents.services.documents.document_create), streamed to the store.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.tenancy.clock import firm_today
from clients.models import Contact
from documents.models import (
    Document,
    DocumentRequest,
    DocumentRequestItem,
    DocumentSource,
)
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
from documents.services import documents as document_services
from documents.services.requests import document_request_upload_withdraw
from documents.upload import IncomingFile
from portal.activity import portal_activity_record
from portal.models import Activity, Capability, RequestLink
from portal.session import PortalSession

ItemStatus = DocumentRequestItem.Status


def _reach(
    portal: PortalSession | None, request_uuid
) -> tuple[DocumentRequest, Contact, RequestLink | None]:
    """The request, who acts on it and through which link; 404 when out of reach."""
    if portal is None or not portal.has_any_access:
        raise Http404("No such request.")
    doc_request = get_object_or_404(
        DocumentRequest.objects.filter(organization=portal.organization).select_related(
            "client"
        ),
        uuid=request_uuid,
    )
    if portal.grant_for(doc_request.client_id, Capability.UPLOAD) is not None:
        return doc_request, portal.contact, None
    link = portal.link_for(doc_request.pk)
    if link is not None:
        return doc_request, link.contact, link
    raise Http404("No such request.")


def _detail_url(portal: PortalSession, doc_request: DocumentRequest) -> str:
    return reverse(
        "portal:request_detail",
        kwargs={"org_slug": portal.organization.slug, "request_uuid": doc_request.uuid},
    )


def request_detail(request: HttpRequest, org_slug: str, request_uuid) -> HttpResponse:
    portal = request.portal
    if portal is not None and not portal.has_any_access:
        if portal.account is not None and portal.needs_second_factor:
            return redirect("portal:two_factor", org_slug=org_slug)
        return redirect("portal:sign_in", org_slug=org_slug)
    doc_request, contact, link = _reach(portal, request_uuid)
    items = list(
        DocumentRequestItem.objects.filter(request=doc_request)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=Document.objects.filter(request_item__request=doc_request)
                .select_related("uploaded_by_contact")
                .order_by("created_at", "id"),
            )
        )
    )
    today = firm_today(portal.organization)
    for item in items:
        item.is_overdue = item.overdue_on(today)
        item.can_upload = (
            doc_request.status == DocumentRequest.Status.OPEN
            and item.status != ItemStatus.ACCEPTED
        )
        for document in item.documents.all():
            document.removable = (
                item.can_upload
                and document.source == DocumentSource.PORTAL
                and document.uploaded_by_contact_id == contact.pk
            )
    owed = sum(1 for i in items if i.status in (ItemStatus.OPEN, ItemStatus.REJECTED))
    ctx = {
        "doc_request": doc_request,
        "items": items,
        "owed": owed,
        "via_link": link is not None,
        "upload_token": uuid.uuid4().hex,
        "max_upload_bytes": document_services.max_upload_bytes(portal.organization.pk),
        "portal_section": "home",
    }
    return render(request, "portal/request_detail.html", ctx)


def _item_or_404(doc_request: DocumentRequest, item_uuid) -> DocumentRequestItem:
    return get_object_or_404(
        DocumentRequestItem.objects.filter(request=doc_request), uuid=item_uuid
    )


@csrf_exempt  # checked by csrf_rejection, after the upload handler is installed
@require_POST
def item_upload(
    request: HttpRequest, org_slug: str, request_uuid, item_uuid
) -> HttpResponse:
    portal = request.portal
    doc_request, contact, link = _reach(portal, request_uuid)
    item = _item_or_404(doc_request, item_uuid)
    back = _detail_url(portal, doc_request)
    organization = portal.organization
    handler = install_handler(request, organization.pk)
    if too_large_unread(request, handler):
        _refused(request, portal, doc_request, contact, link, item, "too large")
        return refused_unread(request, handler, back)
    if rejection := csrf_rejection(request):
        return rejection
    received = receive(request, handler)
    if doc_request.status != DocumentRequest.Status.OPEN:
        refusal = "This request is closed: nothing more is needed for it."
    elif item.status == ItemStatus.ACCEPTED:
        refusal = (
            f"“{item.title}” is already accepted by the firm: nothing more is "
            "needed for it."
        )
    else:
        refusal = ""
    if refusal:
        received.close()
        received.outcomes += [
            Outcome(f.original_name, False, refusal) for f in received.files
        ]
        received.files = []
        _refused(request, portal, doc_request, contact, link, item, refusal)
        return answer(request, received, done=back, back=back)

    def store(file: IncomingFile) -> Document:
        return document_services.document_create(
            client=doc_request.client,
            file=file,
            filename=file.original_name,
            uploaded_by_contact=contact,
            source=DocumentSource.PORTAL,
            category=item.category or "other",
            engagement=doc_request.engagement,
            request_item=item,
        )

    def describe(name: str, document: Document) -> Outcome:
        portal_activity_record(
            organization_id=organization.pk,
            action=Activity.UPLOADED,
            request=request,
            contact=contact,
            client=doc_request.client,
            link=link,
            summary=f"Uploaded {name} for “{item.title}”",
            detail={
                "request": str(doc_request.uuid),
                "item": str(item.uuid),
                "document": str(document.uuid),
                "sha256": document.checksum,
                "size": document.size,
            },
        )
        if document.is_scan_pending:
            # Scanned after this answer: the item says so if it is not accepted.
            return Outcome(
                name,
                True,
                f"{name} received for “{item.title}” — we are checking it. Thank you.",
            )
        return Outcome(name, True, f"{name} received for “{item.title}”. Thank you.")

    token = received.fields.get("upload_token", "")[:64]
    store_each(organization.pk, received, token, store, describe)
    for outcome in received.outcomes:
        if not outcome.ok:
            _refused(request, portal, doc_request, contact, link, item, outcome.message)
    replace = received.fields.get("replace", "")
    if replace and any(o.ok for o in received.outcomes):
        _withdraw_quietly(request, portal, doc_request, contact, link, replace)
    return answer(request, received, done=back, back=back)


def _refused(request, portal, doc_request, contact, link, item, why: str) -> None:
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=Activity.UPLOAD_REFUSED,
        request=request,
        contact=contact,
        client=doc_request.client,
        link=link,
        summary=f"Upload for “{item.title}” refused: {why}"[:300],
        detail={"request": str(doc_request.uuid), "item": str(item.uuid)},
    )


def _own_upload(doc_request: DocumentRequest, document_uuid) -> Document:
    return get_object_or_404(
        Document.objects.filter(request_item__request=doc_request).select_related(
            "request_item"
        ),
        uuid=document_uuid,
    )


def _withdraw(request, portal, doc_request, contact, link, document: Document) -> None:
    item = document_request_upload_withdraw(document=document, contact=contact)
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=Activity.UPLOAD_REMOVED,
        request=request,
        contact=contact,
        client=doc_request.client,
        link=link,
        summary=f"Removed {document.original_filename} from “{item.title}”",
        detail={
            "request": str(doc_request.uuid),
            "item": str(item.uuid),
            "document": str(document.uuid),
            "sha256": document.checksum,
        },
    )


def _withdraw_quietly(request, portal, doc_request, contact, link, document_uuid):
    """Replace: the new file is in; the one it replaces goes, if it still may."""
    try:
        uuid.UUID(str(document_uuid))
        document = _own_upload(doc_request, document_uuid)
        _withdraw(request, portal, doc_request, contact, link, document)
    except (ValueError, Http404, ValidationError):
        messages.warning(request, "The earlier file could not be removed.")


@require_POST
def upload_remove(
    request: HttpRequest, org_slug: str, request_uuid, document_uuid
) -> HttpResponse:
    portal = request.portal
    doc_request, contact, link = _reach(portal, request_uuid)
    document = _own_upload(doc_request, document_uuid)
    try:
        _withdraw(request, portal, doc_request, contact, link, document)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{document.original_filename} was removed.")
    return redirect(_detail_url(portal, doc_request))
