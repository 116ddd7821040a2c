"""Secure messages in the portal: the conversations a contact may write in, and one.

A conversation is a client's thread. A contact reaches it through a grant on
that client that allows messages (`Capability.MESSAGE`); any other client, of
this firm or another, is a 404. Opening it marks the firm's messages read.
Attachments link to the portal's document page when the contact may see the
client's documents (the attachments are shared with the client when sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from advisoros.http import get_only
from documents.models import Document
from documents.services.documents import max_upload_bytes
from portal.activity import portal_activity_record
from portal.decorators import portal_login_required
from portal.forms_messages import MessageForm
from portal.models import Activity, Capability, PortalGrant
from portal.selectors_messages import thread_page, thread_summaries
from portal.services.messages import message_send, thread_mark_read
from portal.session import PortalSession
from portal.views.message_post import message_post


def _grant_or_404(portal: PortalSession, client_uuid: uuid.UUID) -> PortalGrant:
    """The contact's grant on the thread's client, if it allows messages (no query:
    the session loaded the grants)."""
    for grant in portal.grants.values():
        if grant.client.uuid == client_uuid and grant.allows(Capability.MESSAGE):
            return grant
    raise Http404("No such conversation.")


def _thread_url(portal: PortalSession, client_uuid: uuid.UUID) -> str:
    return reverse(
        "portal:message_thread",
        kwargs={"org_slug": portal.organization.slug, "client_uuid": client_uuid},
    )


@portal_login_required
def message_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    """With one client, its conversation; with several, each with its unread count."""
    portal = request.portal
    clients = portal.clients(Capability.MESSAGE)
    if len(clients) == 1:
        return redirect(_thread_url(portal, clients[0].uuid))
    # Query: the last message and unread count of each thread.
    summaries = thread_summaries(portal.organization, [c.pk for c in clients])
    threads = [
        {
            "client": client,
            "url": _thread_url(portal, client.uuid),
            "last_at": summaries.get(client.pk, {}).get("last_at"),
            "unread": summaries.get(client.pk, {}).get("unread", 0),
        }
        for client in clients  # by name (the session's order)
    ]
    threads.sort(key=_unread_then_newest)
    ctx = {"portal": portal, "portal_section": "messages", "threads": threads}
    with timezone.override(ZoneInfo(portal.organization.timezone)):
        return render(request, "portal/messages.html", ctx)


def _unread_then_newest(thread: dict) -> tuple:
    last: datetime | None = thread["last_at"]
    return (thread["unread"] == 0, last is None, -last.timestamp() if last else 0)


@csrf_exempt  # checked by message_post, once the upload handler is installed
@portal_login_required
def message_thread(
    request: HttpRequest, org_slug: str, client_uuid: uuid.UUID
) -> HttpResponse:
    portal = request.portal
    grant = _grant_or_404(portal, client_uuid)
    client = grant.client
    url = _thread_url(portal, client.uuid)
    if request.method == "POST":
        answer = message_post(
            request,
            organization_id=portal.organization.pk,
            thread_url=url,
            send=lambda body, files: message_send(
                client=client,
                body=body,
                sender_contact=portal.contact,
                files=files,
                request=request,
            ),
            refused=partial(_refused, request, grant),
        )
        if isinstance(answer, HttpResponse):
            return answer
        form = answer
    elif not_allowed := get_only(request):
        return not_allowed
    else:
        form = MessageForm()
    # Query: the page of messages with their senders, then their attachments.
    page = thread_page(client, cursor=request.GET.get("cursor"))
    # Query: the firm's messages are read now (those on this page show as new).
    thread_mark_read(client=client, by_firm=False)
    link = _document_link(portal) if grant.allows(Capability.VIEW_DOCUMENTS) else None
    for message in page.rows:
        message.mine = message.from_client
        for attachment in message.attachments.all():
            attachment.url = link(attachment.document) if link else ""
    ctx = {
        "portal": portal,
        "portal_section": "messages",
        "client": client,
        "page": page,
        "form": form,
        "thread_url": url,
        "several": len(portal.clients(Capability.MESSAGE)) > 1,
        "max_upload_bytes": max_upload_bytes(portal.organization.pk),
    }
    with timezone.override(ZoneInfo(portal.organization.timezone)):
        return render(request, "portal/messages_thread.html", ctx)


def _document_link(portal: PortalSession) -> Callable[[Document], str] | None:
    """The portal's page of a shared document, for an attachment still shared.
    None while the portal has no document page (an older checkout)."""
    slug = portal.organization.slug
    try:
        reverse(
            "portal:document_detail",
            kwargs={"org_slug": slug, "document_uuid": uuid.UUID(int=0)},
        )
    except NoReverseMatch:
        return None

    def link(document: Document) -> str:
        if (
            not document.visible_to_client
            or document.archived_at is not None
            or not document.is_servable  # being checked, or quarantined
        ):
            return ""
        return reverse(
            "portal:document_detail",
            kwargs={"org_slug": slug, "document_uuid": document.uuid},
        )

    return link


def _refused(request: HttpRequest, grant: PortalGrant, why: str) -> None:
    portal_activity_record(
        organization_id=grant.organization_id,
        action=Activity.UPLOAD_REFUSED,
        request=request,
        contact=grant.contact,
        client=grant.client,
        summary=f"Attachment to a message refused: {why}"[:300],
    )
