"""The firm's side of the secure messages: the inbox, a client's thread, and the
client page's Messages tab.

Clients are loaded as the client pages load them (clients.selectors): a member
who sees only assigned clients sees only their threads, and another firm's
client is a 404. Read-only members read; staff and above reply. Opening a
thread, on its page or on the tab, marks the client's messages read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from advisoros.http import get_only
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from clients.selectors import get_client_or_404, sees_assigned_only, visible_clients
from documents.services.documents import max_upload_bytes
from portal.forms_messages import MessageForm
from portal.selectors_messages import inbox_page, thread_page
from portal.services.messages import message_send, thread_mark_read
from portal.views.message_post import message_post


def _thread_url(request: OrgRequest, client: Client) -> str:
    return reverse(
        "portal_staff:thread",
        kwargs={"org_slug": request.organization.slug, "client_uuid": client.uuid},
    )


@require_role(Role.READONLY)
def inbox(request: OrgRequest, org_slug: str) -> HttpResponse:
    if not_allowed := get_only(request):
        return not_allowed
    visible = (
        visible_clients(request) if sees_assigned_only(request.membership) else None
    )
    # Query: a page of threads (grouped messages), then the page's clients.
    page = inbox_page(
        request.organization, visible=visible, cursor=request.GET.get("cursor")
    )
    for row in page.rows:
        row["url"] = _thread_url(request, row["client"])
    with firm_time(request):
        return render(request, "portal/staff/messages_inbox.html", {"page": page})


@csrf_exempt  # checked by message_post, once the upload handler is installed
@require_role(Role.READONLY)
def thread(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    # Query: the client, if the member may see it.
    client = get_client_or_404(request, client_uuid)
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied("Read-only members cannot send messages.")
        answer = message_post(
            request,
            organization_id=request.organization.pk,
            thread_url=_thread_url(request, client),
            send=lambda body, files: message_send(
                client=client,
                body=body,
                sender_user=request.user,
                files=files,
                request=request,
            ),
        )
        if isinstance(answer, HttpResponse):
            return answer
        form = answer
    elif not_allowed := get_only(request):
        return not_allowed
    else:
        form = MessageForm()
    ctx = {
        "client": client,
        **_thread(request, client, form=form, cursor=request.GET.get("cursor")),
    }
    with firm_time(request):
        return render(request, "portal/staff/messages_thread.html", ctx)


def _thread(
    request: OrgRequest, client: Client, *, form: MessageForm, cursor: str | None
) -> dict:
    # Query: the page of messages with their senders, then their attachments.
    page = thread_page(client, cursor=cursor)
    # Query: the client's messages are read now (those on this page show as new).
    thread_mark_read(client=client, by_firm=True)
    slug = request.organization.slug
    for message in page.rows:
        message.mine = not message.from_client
        for attachment in message.attachments.all():
            attachment.url = reverse(
                "documents:document_detail",
                kwargs={"org_slug": slug, "document_uuid": attachment.document.uuid},
            )
    return {
        "page": page,
        "form": form,
        "thread_url": _thread_url(request, client),
        "can_write": request.membership.can_write,
        "max_upload_bytes": max_upload_bytes(request.organization.pk),
    }


def messages_tab_context(request: OrgRequest, client: Client) -> dict:
    """The client page's Messages tab: the newest page of the thread and the reply
    form (which posts to the thread's page)."""
    return _thread(request, client, form=MessageForm(), cursor=None)
