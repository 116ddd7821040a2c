"""What the secure messages register with the apps below (PortalConfig.ready):
the client page's Messages tab and the messages on the client timeline."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from clients.tabs import register_client_tab
from clients.timeline import TimelineItem, register_timeline_source
from portal.models import Message


def _messages_tab_context(request, client) -> dict:
    from portal.views.staff_messages import messages_tab_context

    return messages_tab_context(request, client)


register_client_tab(
    "messages",
    "Messages",
    context=_messages_tab_context,
    template="portal/staff/messages_tab.html",
)


@register_timeline_source
def portal_messages(client, *, viewer, limit):
    """Who wrote in the client's thread, and when: never what (the thread shows
    that, to whoever may open it)."""
    rows = (
        Message.objects.filter(organization_id=client.organization_id, client=client)
        .select_related("sender_contact", "sender_user")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-created_at", "-id")[:limit]
    )
    url = reverse(
        "portal_staff:thread",
        kwargs={"org_slug": viewer.organization.slug, "client_uuid": client.uuid},
    )
    for message in rows:
        if message.from_client:
            who = message.sender_contact.full_name if message.sender_contact else ""
            title = f"Message from {who or 'the client'}"
        else:
            who = message.sender_user.name if message.sender_user else ""
            title = f"Message to the client from {who or 'the firm'}"
        count = message.attachment_count
        yield TimelineItem(
            when=message.created_at,
            kind="message",
            title=title,
            detail=f"{count} attachment{'s' if count != 1 else ''}" if count else "",
            actor=who,
            url=url,
        )
