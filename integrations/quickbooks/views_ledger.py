"""A client's books pulled into its ledger: the "Pull now" button of the
client's Ledger tab and of the QuickBooks page (integrations.quickbooks.ledger).

Staff and up may pull the ledger of a client they can see (the ledger's
import asks for the same role); another firm's client, or one the member is
not assigned to where the firm limits staff to theirs, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.selectors import get_client_or_404
from clients.tabs import client_tab_url
from integrations.quickbooks.ledger import client_ledger_pull_queue
from integrations.quickbooks.models import ConnectionKind, QuickBooksConnection


@require_POST
@require_role(Role.STAFF)
def client_ledger_pull_now(
    request: OrgRequest, org_slug: str, client_uuid
) -> HttpResponse:
    # Query: the client, one the member may see in this firm.
    client = get_client_or_404(request, client_uuid)
    # Query: its QuickBooks company.
    connection = QuickBooksConnection.objects.filter(
        organization=request.organization, client=client, kind=ConnectionKind.CLIENT
    ).first()
    if connection is None or not connection.is_connected:
        messages.error(
            request,
            f"{client.display_name}'s QuickBooks company is not connected: an "
            "owner or admin connects it on the QuickBooks page.",
        )
    else:
        with transaction.atomic():
            client_ledger_pull_queue(connection)
        messages.success(
            request,
            f"{client.display_name}'s books are being read from QuickBooks; the "
            "ledger fills in as each month arrives.",
        )
    if request.POST.get("back") == "connection" and request.membership.has_role(
        Role.ADMIN
    ):
        return redirect("quickbooks:connection", org_slug=request.organization.slug)
    return redirect(client_tab_url(request, client, "ledger"))
