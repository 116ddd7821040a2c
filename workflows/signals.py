"""Receivers of the lower apps' signals: each calls an automation service, no more.

Both signals are sent after the sender's transaction has committed, inside the
request's (or job's) firm context; the receivers enter the firm's context again
so they never depend on the caller's. A receiver's failure is logged and
swallowed: the acceptance that sent the signal stands, and a person can complete
the task by hand.
"""

from __future__ import annotations

import logging

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from workflows.services import automation

logger = logging.getLogger(__name__)


def on_request_item_fulfilled(sender, *, item, organization, **kwargs) -> None:
    try:
        with tenant_context(organization):
            automation.request_item_fulfilled(item=item)
    except Exception:
        logger.exception("Automation for request item %s failed", item.pk)


def on_engagement_letter_accepted(sender, *, engagement, **kwargs) -> None:
    try:
        organization = Organization.objects.get(pk=engagement.organization_id)
        with tenant_context(organization):
            automation.engagement_letter_accepted(engagement=engagement)
    except Exception:
        logger.exception("Automation for engagement %s failed", engagement.pk)


def connect() -> None:
    """Called once from WorkflowsConfig.ready()."""
    from clients.signals import engagement_letter_accepted
    from documents.signals import request_item_fulfilled

    request_item_fulfilled.connect(
        on_request_item_fulfilled, dispatch_uid="workflows.request_item_fulfilled"
    )
    engagement_letter_accepted.connect(
        on_engagement_letter_accepted,
        dispatch_uid="workflows.engagement_letter_accepted",
    )
