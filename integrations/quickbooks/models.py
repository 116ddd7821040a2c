"""QuickBooks Online connections, the webhook events Intuit sends about them and
the sync runs that read and write their books (docs/quickbooks.md)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from advisoros.crypto import EncryptedTextField
from advisoros.tenancy.models import TenantModel
from clients.models import Client


class ConnectionKind(models.TextChoices):
    # The firm's own company: clients are its customers, our invoices and
    # payments its invoices and payments.
    FIRM = "firm", "The firm's own books"
    # A client's company: that client's ledger (accounts, trial balances).
    CLIENT = "client", "A client's books"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    # Intuit refused the refresh token (revoked in QuickBooks, expired): a
    # person must sign in to Intuit again.
    RECONNECT = "reconnect", "Needs reconnecting"
    DISCONNECTED = "disconnected", "Disconnected"


class QuickBooksConnection(TenantModel):
    """One QuickBooks Online company (realm) the firm connected over OAuth.

    The tokens are encrypted at rest. The access token lives an hour; the
    refresh token rotates on every refresh (the newest one is always the one
    stored: services.connection_access_token) and has two expiries: a rolling
    one (`x_refresh_token_expires_in`, about 100 days, renewed by every
    refresh) and a hard one (`x_refresh_token_hard_expires_in`, five years from
    the first consent) after which only a new sign-in helps.

    A disconnected connection keeps its row (and realm id) with its tokens
    forgotten: the sync's mappings and runs still point at it, and connecting
    the same company again picks it up.
    """

    kind = models.CharField(max_length=10, choices=ConnectionKind.choices)
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quickbooks_connections",
    )
    realm_id = models.CharField("company id (realm)", max_length=32, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_hard_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.CONNECTED,
    )
    last_error = models.TextField(blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # The admins were emailed about the "reconnect" state (once per episode).
    reconnect_emailed_at = models.DateTimeField(null=True, blank=True)
    # The admins were warned of the hard expiry ahead (once per refresh token).
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="firm"),
                name="qbo_one_firm_company_per_firm",
            ),
            models.UniqueConstraint(
                fields=["organization", "client"],
                condition=Q(kind="client"),
                name="qbo_one_company_per_client",
            ),
            models.UniqueConstraint(
                fields=["organization", "realm_id"],
                condition=~Q(realm_id=""),
                name="qbo_realm_once_per_firm",
            ),
            models.CheckConstraint(
                condition=(Q(kind="firm") & Q(client__isnull=True))
                | (Q(kind="client") & Q(client__isnull=False)),
                name="qbo_client_iff_client_kind",
            ),
        ]
        indexes = [
            # TenantModel's own, named by hand: the class name makes it too long.
            models.Index(
                fields=["organization", "created_at"], name="qbo_conn_org_created"
            ),
            models.Index(fields=["organization", "status"], name="qbo_conn_org_status"),
            models.Index(fields=["realm_id"], name="qbo_conn_realm"),
        ]
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return f"QuickBooks {self.get_kind_display()} {self.realm_id}"

    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    def expires_within(self, days: int) -> bool:
        hard = self.refresh_hard_expires_at
        return hard is not None and hard <= timezone.now() + timedelta(days=days)


class WebhookEvent(TenantModel):
    """One CloudEvent Intuit posted about a connected company (an entity
    created, updated, deleted ...). Recorded under (firm, event id) in the
    transaction that queues its job, so Intuit's retries and replays are
    absorbed. Ids only: the sync reads the entity from the API."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        # Noted for the sync (which reads the entity by id on its next run).
        RECEIVED_FOR_SYNC = "received_for_sync", "Waiting for the sync"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="events"
    )
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=200)
    entity_name = models.CharField(max_length=100, blank=True)
    entity_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="qbo_event_once_per_firm"
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "status"], name="qbo_event_org_status"
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class SyncRun(TenantModel):
    """One run of the sync against a connection: what it read and wrote, where
    it got to (`cursor`: the CDC `changedSince` it continues from, or a full
    sync's position), how long it took and what went wrong. Written by the
    sync; the connection page shows the latest runs as the connection's health."""

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental (CDC)"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with errors"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # {"Customer": {"read": 10, "created": 2, "updated": 1}, ...}
    counts = models.JSONField(default=dict, blank=True)
    cursor = models.CharField(max_length=255, blank=True)
    requests_made = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"entity": "Invoice", "id": "130", "message": "..."}, ...]
    errors = models.JSONField(default=list, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "connection", "started_at"],
                name="qbo_syncrun_conn_started",
            ),
        ]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync {self.started_at:%Y-%m-%d %H:%M}"


class SyncEntity(models.TextChoices):
    CUSTOMER = "Customer", "Customer (client)"
    INVOICE = "Invoice", "Invoice"
    CREDIT_MEMO = "CreditMemo", "Credit memo (credit note)"
    PAYMENT = "Payment", "Payment"


class QuickBooksLink(TenantModel):
    """One of our objects (a client, an issued invoice or credit note, a
    payment) and its twin in the firm's QuickBooks company, by QuickBooks id,
    never by name: a rename on either side keeps the link.

    `our_hash` and `their_hash` are the hashes of each side's synced fields as
    they were at the last sync (integrations.quickbooks.sync): a side whose
    hash moved has changed since; both moved is a conflict. `qbo_id` is blank
    while a push is under way: the link is written before Intuit is called, so
    a push that died between Intuit's answer and our commit is finished (with
    the same requestid, which Intuit answers with the same object) before the
    next pull, and the object coming back is recognised as ours.
    """

    class State(models.TextChoices):
        PUSHING = "pushing", "Being written to QuickBooks"
        SYNCED = "synced", "In step"
        CONFLICT = "conflict", "Conflict"

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="links"
    )
    entity = models.CharField(max_length=10, choices=SyncEntity.choices)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    payment = models.ForeignKey(
        "billing.Payment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    qbo_id = models.CharField("QuickBooks id", max_length=64, blank=True)
    sync_token = models.CharField(max_length=32, blank=True)
    our_hash = models.CharField(max_length=64, blank=True)
    their_hash = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PUSHING
    )
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection", "entity", "qbo_id"],
                condition=~Q(qbo_id=""),
                name="qbo_link_once_per_qbo_id",
            ),
            models.UniqueConstraint(
                fields=["organization", "connection", "client"],
                condition=Q(entity="Customer"),
                name="qbo_link_once_per_client",
            ),
            models.UniqueConstraint(
                fields=["organization", "connection", "invoice"],
                condition=Q(entity="Invoice"),
                name="qbo_link_once_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["organization", "connection", "invoice"],
                condition=Q(entity="CreditMemo"),
                name="qbo_link_once_per_credit_note",
            ),
            models.UniqueConstraint(
                fields=["organization", "connection", "payment"],
                condition=Q(entity="Payment"),
                name="qbo_link_once_per_payment",
            ),
            # A link names exactly the one object of its entity.
            models.CheckConstraint(
                condition=(
                    Q(entity="Customer", client__isnull=False)
                    & Q(invoice__isnull=True, payment__isnull=True)
                )
                | (
                    Q(entity__in=("Invoice", "CreditMemo"), invoice__isnull=False)
                    & Q(client__isnull=True, payment__isnull=True)
                )
                | (
                    Q(entity="Payment", payment__isnull=False)
                    & Q(client__isnull=True, invoice__isnull=True)
                ),
                name="qbo_link_one_object",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="qbo_link_org_created"
            ),
            models.Index(
                fields=["organization", "connection", "entity", "state"],
                name="qbo_link_conn_state",
            ),
            models.Index(fields=["client"], name="qbo_link_client"),
            models.Index(fields=["invoice"], name="qbo_link_invoice"),
            models.Index(fields=["payment"], name="qbo_link_payment"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.qbo_id or '(being written)'}"


class SyncIssue(TenantModel):
    """The error queue and the conflicts of a connection's sync: one open row
    per object (`key`: the QuickBooks id of what was read, or our object's
    uuid for what was written), counted again when the same object fails
    again. A conflict keeps both sides' synced fields as they were found, for
    the person who resolves it (integrations.quickbooks.sync.sync_issue_resolve).
    """

    class Kind(models.TextChoices):
        ERROR = "error", "Error"
        CONFLICT = "conflict", "Conflict"

    class Direction(models.TextChoices):
        PULL = "pull", "From QuickBooks"
        PUSH = "push", "To QuickBooks"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="issues"
    )
    run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    link = models.ForeignKey(
        QuickBooksLink,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="issues",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    entity = models.CharField(max_length=10, choices=SyncEntity.choices)
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    ours = models.JSONField(default=dict, blank=True)
    theirs = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.CharField(max_length=20, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection", "direction", "entity", "key"],
                condition=Q(status="open"),
                name="qbo_issue_open_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="qbo_issue_org_created"
            ),
            models.Index(
                fields=["organization", "status", "-updated_at"],
                name="qbo_issue_org_status",
            ),
        ]
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.entity} {self.key}"


class CreditApplication(TenantModel):
    """A credit memo made in the firm's QuickBooks company, applied there by a
    payment to one of our invoices: the credit note it became here. One row
    per (payment, credit memo, invoice), so a memo applied to several
    invoices, at once or by several payments, is a credit note on each, and a
    payment read again (a full sync, a webhook, a retry) makes none twice.

    The memo itself is not linked (QuickBooksLink): it is not one of our
    objects, and no single credit note here stands for it."""

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="+"
    )
    memo_qbo_id = models.CharField("credit memo's QuickBooks id", max_length=64)
    payment_qbo_id = models.CharField("payment's QuickBooks id", max_length=64)
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.CASCADE, related_name="+"
    )
    credit_note = models.OneToOneField(
        "billing.Invoice", on_delete=models.CASCADE, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "connection",
                    "payment_qbo_id",
                    "memo_qbo_id",
                    "invoice",
                ],
                name="qbo_credit_applied_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="qbo_credit_org_created"
            ),
            models.Index(fields=["invoice"], name="qbo_credit_invoice"),
        ]

    def __str__(self) -> str:
        return f"Credit memo {self.memo_qbo_id} by payment {self.payment_qbo_id}"


class LedgerTransaction(TenantModel):
    """A transaction of a client's QuickBooks company that a ledger pull saw
    changed, and the month-end it was dated in then. A transaction moved to
    another month changes the balances of both months (and every month-end
    between and after): CDC gives only its new date, so the old one is kept
    here (integrations.quickbooks.ledger)."""

    connection = models.ForeignKey(
        QuickBooksConnection, on_delete=models.CASCADE, related_name="+"
    )
    # The API's entity name (JournalEntry, Invoice ...) and its Id there: an
    # Id is unique per entity, not per company.
    entity = models.CharField(max_length=20)
    qbo_id = models.CharField("QuickBooks id", max_length=64)
    period_end = models.DateField()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connection", "entity", "qbo_id"],
                name="qbo_ledger_txn_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="qbo_ledger_txn_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.qbo_id} in {self.period_end:%Y-%m}"
