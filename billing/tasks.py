"""Background jobs of the billing app. Thin: ids in, the firm's context, a service.

Each is queued on commit through advisoros.tenancy.tasks, so it runs in its
firm, is retried with backoff and lands on the failed-jobs page when it fails
for good; each is safe to run twice.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization
from billing.emails import receipt_email
from billing.models import Payment, PaymentStatus

logger = logging.getLogger(__name__)


def payment_receipt_queue(payment: Payment) -> None:
    organization = Organization.objects.get(pk=payment.organization_id)
    enqueue_for_organization(
        "billing.tasks.payment_receipt_job", organization, payment_id=payment.pk
    )


def payment_receipt_job(*, organization: Organization, payment_id: int) -> bool:
    """Email the receipt of a succeeded payment, once: the payment row is locked
    and stamped in the transaction that sends it, so a retry after a failed send
    tries again and a second run finds it sent. Returns whether one went out."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("invoice", "invoice__client")
            .get(organization=organization, pk=payment_id)
        )
        if payment.receipt_sent_at or payment.status != PaymentStatus.SUCCEEDED:
            return False
        message = receipt_email(organization, payment)
        if message is None:
            logger.info("No address for the receipt of payment %s", payment.uuid)
            return False
        message.send()
        payment.receipt_sent_at = timezone.now()
        payment.save(update_fields=["receipt_sent_at", "updated_at"])
    return True
