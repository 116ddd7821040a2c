"""What the portal registers with the apps below it (PortalConfig.ready)."""

from __future__ import annotations

from django.dispatch import receiver

from advisoros.tenancy.tasks import enqueue_for_organization
from clients.timeline import TimelineItem, register_timeline_source
from documents.signals import request_item_reviewed
from portal.models import Activity, PortalActivity


@register_timeline_source
def portal_activity(client, *, viewer, limit):
    """What the client's contacts did in the portal."""
    rows = (
        # Messages have their own source (hooks_messages): not twice.
        PortalActivity.objects.filter(client=client)
        .exclude(action=Activity.MESSAGE_SENT)
        .select_related("contact")
        .order_by("-created_at", "-id")[:limit]
    )
    for row in rows:
        who = row.contact.full_name if row.contact else row.email
        yield TimelineItem(
            when=row.created_at,
            kind="portal",
            title=row.summary or row.get_action_display(),
            detail=f"Client portal · {row.ip_address or 'unknown address'}",
            actor=who,
        )


@receiver(request_item_reviewed, dispatch_uid="portal_item_reviewed_email")
def _item_reviewed(sender, *, item, organization, **kwargs):
    """The email goes out from a job in the firm's context, with retries."""
    enqueue_for_organization(
        "portal.tasks.request_item_review_email_job", organization, item_id=item.pk
    )
