"""How billing's emails reach an invoice: the portal's page for it
(billing.links; registered in PortalConfig.ready)."""

from __future__ import annotations

from django.urls import reverse

from advisoros.email import absolute_url
from advisoros.tenancy.models import Organization
from billing.links import register_invoice_link_builder
from portal.models import PortalGrant


@register_invoice_link_builder
def portal_invoice_link(*, invoice) -> str:
    """The invoice's portal page, when one of the client's contacts may see
    invoices there; "" otherwise (the email then says to ask the firm)."""
    if not PortalGrant.objects.filter(
        organization_id=invoice.organization_id,
        client_id=invoice.client_id,
        revoked_at__isnull=True,
        can_view_invoices=True,
    ).exists():
        return ""
    slug = Organization.objects.values_list("slug", flat=True).get(
        pk=invoice.organization_id
    )
    return absolute_url(
        reverse(
            "portal:invoice_detail",
            kwargs={"org_slug": slug, "invoice_uuid": invoice.uuid},
        )
    )
