"""Billing's receivers: when an invoice is paid, the workflow steps waiting for
it complete (workflows.services.automation.invoice_paid).

Sent after the paying transaction committed; the receiver enters the firm's
context again and its failure is logged, never raised: the payment stands and
a person can complete the task by hand.
"""

from __future__ import annotations

import logging

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.signals import invoice_paid
from workflows.services import automation

logger = logging.getLogger(__name__)


def on_invoice_paid(sender, *, invoice, organization_id: int, **kwargs) -> None:
    try:
        organization = Organization.objects.get(pk=organization_id)
        with tenant_context(organization):
            automation.invoice_paid(
                organization_id=organization_id,
                invoice_target=automation.target_of(invoice),
                engagement_id=invoice.engagement_id,
                client_id=invoice.client_id,
                number=invoice.display_number,
            )
    except Exception:
        logger.exception("Automation for invoice %s failed", invoice.pk)


def connect() -> None:
    """Called once from BillingConfig.ready()."""
    invoice_paid.connect(on_invoice_paid, dispatch_uid="billing.invoice_paid")
