"""Background jobs run in their firm's context: ids in, scope and RLS set, service called."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django_q.tasks import async_task

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Invitation, Organization


def enqueue_for_organization(func: str, organization: Organization, **kwargs) -> None:
    """Queue `func` to run in `organization`'s context once the transaction commits."""
    org_id = organization.pk
    transaction.on_commit(
        lambda: async_task(
            "advisoros.tenancy.tasks.run_in_organization", func, org_id, kwargs
        )
    )


def run_in_organization(func: str, organization_id: int, kwargs: dict):
    """The adapter every firm job goes through: a job never runs outside its firm."""
    from django.utils.module_loading import import_string

    organization = Organization.objects.get(pk=organization_id)
    with tenant_context(organization):
        return import_string(func)(organization=organization, **kwargs)


def invitation_send_email(*, organization: Organization, invitation_id: int) -> str:
    from advisoros.tenancy.services import invitation_token

    invitation = Invitation.objects.select_related("invited_by").get(pk=invitation_id)
    if not invitation.is_open:
        return "skipped: invitation no longer open"
    link = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:invitation_accept", args=[invitation_token(invitation)]
    )
    ctx = {"invitation": invitation, "organization": organization, "link": link}
    send_mail(
        subject=f"You're invited to join {organization.name} on AdvisorOS",
        message=render_to_string("tenancy/email/invitation.txt", ctx),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return f"sent to {invitation.email}"
