"""What integrations.quickbooks adds to the firm's pages (registered in its AppConfig).

base_org.html offers the slot "firm_notice" (`{% panels "firm_notice" organization %}`)
above every firm page's content: while a QuickBooks connection of the firm
waits for a new sign-in, this panel says so (and, to owners and admins, where
to do it). It reads a flag from the cache (integrations.quickbooks.tokens):
no query on any page.

The client page's Ledger tab (reports) offers the slot "client_ledger": this
panel shows the client's QuickBooks company there, its last pull into the
ledger, the errors and "Pull now" (staff and up), or how to connect it.
"""

from __future__ import annotations

from django.http import HttpRequest

from advisoros.panels import register_panel
from advisoros.tenancy.models import Organization, Role
from clients.models import Client
from integrations.quickbooks.models import ConnectionKind, QuickBooksConnection, SyncRun
from integrations.quickbooks.oauth import intuit_enabled
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


def client_ledger_context(request: HttpRequest, client: Client):
    membership = getattr(request, "membership", None)
    if membership is None or client is None:
        return None
    organization = request.organization
    # Query: the client's QuickBooks company.
    connection = QuickBooksConnection.objects.filter(
        organization=organization, client=client, kind=ConnectionKind.CLIENT
    ).first()
    run = None
    if connection is not None:
        connection.client = client
        # Query (connected only): its latest pull.
        run = (
            SyncRun.objects.filter(organization=organization, connection=connection)
            .order_by("-started_at", "-pk")
            .first()
        )
    return {
        "organization": organization,
        "client": client,
        "connection": connection,
        "run": run,
        "enabled": intuit_enabled(),
        "can_connect": membership.has_role(Role.ADMIN),
        "can_pull": membership.can_write,
    }


def register() -> None:
    register_panel(
        "firm_notice",
        template="integrations/quickbooks/panels/reconnect_notice.html",
        context=reconnect_notice_context,
    )
    register_panel(
        "client_ledger",
        template="integrations/quickbooks/panels/client_ledger.html",
        context=client_ledger_context,
    )
