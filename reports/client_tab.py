"""The client page's Ledger tab (registered from ReportsConfig.ready): the
client's latest trial balances and links to its ledger and statements.

One query: the page already checked that the member may see the client, and
whoever sees a client sees its ledger.
"""

from __future__ import annotations

from django.urls import reverse

from clients.tabs import register_client_tab
from reports.models import TrialBalance

SNAPSHOTS_SHOWN = 6


def ledger_tab_context(request, client) -> dict:
    org = request.organization
    kwargs = {"org_slug": org.slug, "client_uuid": client.uuid}
    return {
        # Query: the client's latest trial balances.
        "snapshots": list(
            TrialBalance.objects.filter(organization=org, client=client)
            .only("uuid", "period_end", "source", "total_debit", "created_at")
            .order_by("-period_end")[:SNAPSHOTS_SHOWN]
        ),
        "ledger_url": reverse("reports:ledger_detail", kwargs=kwargs),
        "import_url": reverse("reports:import_upload", kwargs=kwargs),
        "statements": [
            (label, reverse(f"reports:{name}", kwargs=kwargs))
            for name, label in (
                ("profit_and_loss", "Profit and loss"),
                ("balance_sheet", "Balance sheet"),
                ("cash_flow", "Cash flow"),
                ("trial_balance", "Trial balance"),
            )
        ],
    }


register_client_tab(
    "ledger",
    "Ledger",
    context=ledger_tab_context,
    template="reports/client_tab.html",
)
