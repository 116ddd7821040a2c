"""Reads of the billing app that more than one view or service needs."""

from __future__ import annotations

from django.db.models import QuerySet

from advisoros.tenancy.models import Organization
from billing.models import BillingSettings, Invoice, InvoiceStatus, TimeEntry


def billing_settings(organization: Organization | int) -> BillingSettings:
    """The firm's billing settings, made with the defaults on first use."""
    org_id = organization if isinstance(organization, int) else organization.pk
    found, _ = BillingSettings.objects.get_or_create(organization_id=org_id)
    return found


def unbilled_time(*, organization_id: int, client_id: int) -> QuerySet[TimeEntry]:
    """The client's billable time not on any invoice yet, oldest first."""
    return TimeEntry.objects.filter(
        organization_id=organization_id,
        client_id=client_id,
        billable=True,
        invoice_line__isnull=True,
    ).order_by("date", "pk")


def issued_invoices(organization_id: int) -> QuerySet[Invoice]:
    """Invoices and credit notes past draft (void ones included)."""
    return Invoice.objects.filter(organization_id=organization_id).exclude(
        status=InvoiceStatus.DRAFT
    )
