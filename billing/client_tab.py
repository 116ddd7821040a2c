"""The client page's Invoices tab (registered from BillingConfig.ready): the
client's invoices, newest first, what it owes, and its unbilled time with a
button that bills it.

Three queries whatever the client's history: the page already checked that
the member may see the client, and whoever sees a client sees its invoices
(billing.invoice_selectors.visible_invoices), so they read by client directly.
"""

from __future__ import annotations

from django.db.models import Sum
from django.urls import reverse

from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from billing.invoice_selectors import (
    LIST_COLUMNS,
    display_status,
    open_balance,
    unbilled_summary,
)
from billing.models import OPEN_INVOICE_STATUSES, Invoice, InvoiceKind
from clients.tabs import register_client_tab

INVOICES_SHOWN = 50


def invoices_tab_context(request, client) -> dict:
    org = request.organization
    today = firm_today(org)
    # Query: the client's latest invoices and credit notes.
    invoices = list(
        Invoice.objects.filter(organization=org, client=client)
        .select_related("client", "engagement")
        .only(*LIST_COLUMNS)
        .order_by("-created_at", "-id")[: INVOICES_SHOWN + 1]
    )
    detail_url = row_url("billing:invoice_detail", "invoice_uuid", org_slug=org.slug)
    for invoice in invoices:
        invoice.url = detail_url(invoice.uuid)
        invoice.shown_status = display_status(invoice, today)
    # Query: what the client owes on its open invoices, per currency.
    owed = list(
        Invoice.objects.filter(
            organization=org,
            client=client,
            kind=InvoiceKind.INVOICE,
            status__in=OPEN_INVOICE_STATUSES,
        )
        .values("currency")
        .annotate(amount=Sum(open_balance()))
        .order_by("currency")
    )
    # Query: its unbilled billable time and that time's value at its rates.
    unbilled = unbilled_summary(organization_id=org.pk, client_id=client.pk)
    list_url = reverse("billing:invoice_list", kwargs={"org_slug": org.slug})
    return {
        "invoices": invoices[:INVOICES_SHOWN],
        "invoices_capped": len(invoices) > INVOICES_SHOWN,
        "owed": owed,
        "unbilled": unbilled,
        "all_url": f"{list_url}?client={client.uuid}",
        "new_url": reverse("billing:invoice_new", kwargs={"org_slug": org.slug}),
    }


register_client_tab(
    "invoices",
    "Invoices",
    context=invoices_tab_context,
    template="billing/client_tab.html",
)
