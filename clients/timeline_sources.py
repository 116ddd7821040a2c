"""What the clients app puts on a client's timeline: notes, engagements, and changes."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse

from advisoros.audit.models import LogEntry
from clients.models import Client, Engagement, Note
from clients.timeline import TimelineItem, register_timeline_source


@register_timeline_source
def note_items(client: Client, *, viewer, limit: int):
    notes = (
        Note.objects.filter(organization_id=client.organization_id, client=client)
        .filter(Q(is_private=False) | Q(author_id=viewer.user_id))
        .select_related("author")
        .order_by("-created_at")[:limit]
    )
    for note in notes:
        yield TimelineItem(
            when=note.created_at,
            kind="note",
            title=f"{note.get_note_type_display()} by {note.author or 'a former member'}",
            detail=note.body[:280],
            actor=str(note.author or ""),
        )


@register_timeline_source
def engagement_items(client: Client, *, viewer, limit: int):
    for engagement in Engagement.objects.filter(
        organization_id=client.organization_id, client=client
    ).order_by("-created_at")[:limit]:
        yield TimelineItem(
            when=engagement.created_at,
            kind="engagement",
            title=f"Engagement opened: {engagement.name}",
            detail=engagement.get_status_display(),
            url=reverse(
                "clients:engagement_detail",
                kwargs={
                    "org_slug": viewer.organization.slug,
                    "engagement_uuid": engagement.uuid,
                },
            ),
        )


@register_timeline_source
def change_items(client: Client, *, viewer, limit: int):
    """Edits of the client record itself, from the audit trail."""
    entries = LogEntry.objects.filter(
        organization_id=client.organization_id,
        content_type=ContentType.objects.get_for_model(Client),
        object_id=client.pk,
    ).order_by("-timestamp")[:limit]
    for entry in entries:
        verb = {0: "created", 1: "updated", 2: "deleted"}.get(entry.action, "changed")
        fields = ", ".join(sorted((entry.changes_dict or {}).keys()))
        yield TimelineItem(
            when=entry.timestamp,
            kind="change",
            title=f"Client {verb}",
            # A creation lists every field: only an update's fields say something.
            detail=f"Changed: {fields}" if entry.action == 1 and fields else "",
            actor=entry.actor_email or "",
        )
