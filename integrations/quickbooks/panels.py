"""What integrations.quickbooks adds to the firm's pages (registered in its AppConfig).

base_org.html offers the slot "firm_notice" (`{% panels "firm_notice" organization %}`)
above every firm page's content: while a QuickBooks connection of the firm
waits for a new sign-in, this panel says so (and, to owners and admins, where
to do it). It reads a flag from the cache (integrations.quickbooks.tokens):
no query on any page.
"""

from __future__ import annotations

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.tenancy.models import Organization, Role
from integrations.quickbooks.tokens import firm_needs_reconnect


def reconnect_notice_context(request: HttpRequest, organization: Organization):
    membership = getattr(request, "membership", None)
    if membership is None or organization is None:
        return None
    if not firm_needs_reconnect(organization.pk):
        return None
    return {
        "organization": organization,
        "can_reconnect": membership.has_role(Role.ADMIN),
    }


def register() -> None:
    register_panel(
        "firm_notice",
        template="integrations/quickbooks/panels/reconnect_notice.html",
        context=reconnect_notice_context,
    )
