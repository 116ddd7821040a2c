"""A firm's Stripe account, the events it sends us and the Checkout sessions we
open for its clients (docs/billing.md, "Payments")."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from advisoros.crypto import EncryptedTextField
from advisoros.tenancy.models import TenantModel
from billing.models import Invoice, money_field


class StripeAccount(TenantModel):
    """The firm's own Stripe account: its keys encrypted at rest, checked with one
    API call when saved. Webhooks arrive at a URL carrying `webhook_token`, so an
    event names its firm before anything is read from it."""

    secret_key = EncryptedTextField()
    # Stripe makes the signing secret when the firm adds our webhook URL there,
    # after the key is saved: empty until pasted (no online payment till then).
    webhook_secret = EncryptedTextField(blank=True)
    # Shown on the page ("sk_live_…4242"), never the key.
    key_hint = models.CharField(max_length=40, blank=True)
    stripe_account_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    webhook_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    accept_cards = models.BooleanField(default=True)
    accept_ach = models.BooleanField("accept US bank accounts (ACH)", default=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], name="stripeaccount_one_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"Stripe account of {self.organization_id}"

    @property
    def payment_methods(self) -> list[str]:
        """Stripe's `payment_method_types` the firm takes, for a currency:
        US bank accounts are for US dollars only."""
        return self.methods_for("USD")

    def methods_for(self, currency: str) -> list[str]:
        methods = ["card"] if self.accept_cards else []
        if self.accept_ach and currency.upper() == "USD":
            methods.append("us_bank_account")
        return methods

    @property
    def is_ready(self) -> bool:
        """Clients may pay online: a checked key, the webhook's signing secret
        (else payments would never be recorded) and a way to pay."""
        return bool(
            self.checked_at
            and self.secret_key
            and self.webhook_secret
            and (self.accept_cards or self.accept_ach)
        )


class StripeEvent(TenantModel):
    """An event Stripe sent to a firm's webhook: recorded under a unique id in
    the transaction that queues its job, so a retry or duplicate is absorbed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="stripeevent_once_per_firm"
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class CheckoutSession(TenantModel):
    """One Checkout session opened for an invoice. `attempt` numbers the
    invoice's sessions: the idempotency key is "<invoice uuid>:checkout:<attempt>",
    so a double click reuses the session and a later attempt (new amount) opens
    another."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="checkout_sessions"
    )
    attempt = models.PositiveIntegerField()
    session_id = models.CharField(max_length=255)
    url = models.URLField(max_length=2000)
    amount = money_field()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "attempt"], name="checkout_attempt_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "session_id"],
                name="checkout_session_once_per_firm",
                condition=~Q(session_id=""),
            ),
        ]
        ordering = ["-attempt"]


class PlatformEvent(models.Model):
    """An event from the platform's own Stripe account, about a firm's
    subscription to AdvisorOS (integrations.stripe.platform). Not a tenant
    table: it arrives before anyone knows its firm (the customer id names it),
    and it is the platform's record, not the firm's. The unique event id,
    written in the transaction that queues its job, absorbs Stripe's retries."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    customer_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["customer_id", "received_at"], name="platformevent_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
