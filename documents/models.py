"""Clients' documents: versioned files with OCR text, search, requests and retention.

A document is a lineage of versions. Each version is one `Document` row; the first
version is the root (`parent_document` is empty) and every later version points at
the root. Exactly one row of a lineage is the latest (`is_latest_version`), which a
partial unique index enforces; `documents.services.documents.document_add_version`
serialises concurrent uploads on the root row.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django_scopes import ScopedManager

from advisoros.overdue import is_overdue
from advisoros.tenancy.models import Organization, TenantModel
from clients.models import Client, Contact, Engagement

USER = settings.AUTH_USER_MODEL


class DocumentCategory(models.TextChoices):
    TAX_RETURN = "tax_return", "Tax return"
    W2 = "w2", "W-2"
    FORM_1099 = "1099", "1099"
    FORM_1098 = "1098", "1098"
    K1 = "k1", "K-1"
    BANK_STATEMENT = "bank_statement", "Bank statement"
    RECEIPT = "receipt", "Receipt"
    INVOICE = "invoice", "Invoice"
    FINANCIAL_STATEMENT = "financial_statement", "Financial statement"
    ENGAGEMENT_LETTER = "engagement_letter", "Engagement letter"
    PAYROLL = "payroll", "Payroll"
    CORRESPONDENCE = "correspondence", "Correspondence"
    OTHER = "other", "Other"


class DocumentSource(models.TextChoices):
    STAFF = "staff", "Staff upload"
    PORTAL = "portal", "Client portal"
    INTEGRATION = "integration", "Integration"


class OcrStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    NEEDS_REVIEW = "needs_review", "Needs review"


class ScanStatus(models.TextChoices):
    """The virus scanner's verdict on a version (documents.scanning). With a
    scanner configured an upload is stored PENDING and scanned by a job after
    the upload's answer (documents.services.scan); only CLEAN and NOT_SCANNED
    versions are ever served, shared, read by OCR or made a lineage's latest."""

    PENDING = "pending", "Checking for viruses"  # stored, the scan job to come
    CLEAN = "clean", "Clean"
    INFECTED = "infected", "Quarantined"  # never served, hidden from the client
    FAILED = "failed", "Could not be checked"  # the scanner never answered: kept
    NOT_SCANNED = "not_scanned", "Not scanned"  # no scanner was configured


# The verdicts under which a version may be served, shared and read.
SERVABLE_SCAN_STATUSES = (ScanStatus.CLEAN, ScanStatus.NOT_SCANNED)


class AccessLevel(models.TextChoices):
    STANDARD = "standard", "Standard"  # anyone who may see the client
    RESTRICTED = "restricted", "Restricted"  # partner/manager + named people
    CONFIDENTIAL = "confidential", "Confidential"  # owners and admins


def document_path(instance: Document, filename: str) -> str:
    # Never the uploader's file name in the path: it is kept for display only.
    return f"private/{instance.organization_id}/documents/{instance.uuid}"


class DocumentSettings(TenantModel):
    """A firm's document rules; one row per firm, made on first use
    (`documents.services.settings.document_settings_for`)."""

    max_upload_mb = models.PositiveIntegerField(
        "largest upload (MB)",
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(5 * 1024)],
    )
    ocr_review_threshold = models.DecimalField(
        "OCR confidence below which a document needs review",
        max_digits=3,
        decimal_places=2,
        default=0.80,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    reminder_every_days = models.PositiveSmallIntegerField(
        "remind clients of overdue requested items every (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    # {category: years} overriding the firm's document_retention_years.
    retention_years_by_category = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name_plural = "document settings"
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], name="documentsettings_one_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"Document settings of firm {self.organization_id}"


class DocumentRequest(TenantModel):
    """What the firm asks a client to upload: a list of items with due dates."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="document_requests"
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="document_requests",
    )
    title = models.CharField(max_length=200)
    message = models.TextField(
        blank=True, help_text="Shown to the client above the list."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default="open")
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "status"], name="docrequest_org_status"
            ),
            models.Index(
                fields=["client", "status", "created_at"],
                name="docrequest_client_status",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DocumentRequestItem(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RECEIVED = "received", "Received"  # something uploaded, not yet checked
        ACCEPTED = "accepted", "Accepted"  # fulfilled
        REJECTED = "rejected", "Rejected"  # the client must upload again

    request = models.ForeignKey(
        DocumentRequest, on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField("what is needed", max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=24, choices=DocumentCategory.choices, blank=True
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default="open")
    rejection_reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["position", "id"]
        indexes = [
            # TenantModel's default name would pass PostgreSQL's 30-character limit.
            models.Index(
                fields=["organization", "created_at"], name="docreqitem_org_created"
            ),
            models.Index(
                fields=["organization", "status", "due_date"],
                name="docreqitem_org_status_due",
            ),
            models.Index(fields=["request", "position"], name="docreqitem_request"),
        ]

    def __str__(self) -> str:
        return self.title

    def overdue_on(self, today: date) -> bool:
        return is_overdue(
            self.due_date, self.status, today=today, open_statuses=OWED_STATUSES
        )


# Items the client still owes: nothing sent yet, or what was sent was refused
# (overdue once past their due date: advisoros.overdue).
OWED_STATUSES = (
    DocumentRequestItem.Status.OPEN,
    DocumentRequestItem.Status.REJECTED,
)


class Document(TenantModel):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="documents"
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    title = models.CharField(max_length=255)
    original_filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=document_path, max_length=500)
    size = models.BigIntegerField(default=0)
    mime_type = models.CharField(max_length=120)
    checksum = models.CharField("SHA-256", max_length=64)
    # Set at upload when the same bytes already exist for this client.
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category = models.CharField(
        max_length=24, choices=DocumentCategory.choices, default="other"
    )
    tax_year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2200)],
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    description = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(
        max_length=12, choices=DocumentSource.choices, default="staff"
    )
    request_item = models.ForeignKey(
        DocumentRequestItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )

    # Versions: the root has no parent; every later version points at the root.
    version = models.PositiveIntegerField(default=1)
    parent_document = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="later_versions",
    )
    is_latest_version = models.BooleanField(default=True)
    # A version made by restoring an older one (document_restore_version).
    restored_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # OCR (documents.ocr, run by documents.tasks.document_ocr).
    ocr_status = models.CharField(
        max_length=12, choices=OcrStatus.choices, default="pending"
    )
    ocr_confidence = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    ocr_text = models.TextField(blank=True)
    ocr_processed_at = models.DateTimeField(null=True, blank=True)
    ocr_error = models.TextField(blank=True)
    ocr_pages_done = models.PositiveIntegerField(default=0)  # progress
    suggested_category = models.CharField(
        max_length=24, choices=DocumentCategory.choices, blank=True
    )
    suggested_tax_year = models.PositiveSmallIntegerField(null=True, blank=True)
    suggestion_confidence = models.FloatField(null=True, blank=True)
    # Why (documents.classify): "Found “Wage and Tax Statement”", ...
    suggestion_reasons = ArrayField(
        models.CharField(max_length=200), default=list, blank=True
    )
    reviewed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    # Virus scan (documents.scanning). Rows from before scanning: not scanned.
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default="not_scanned"
    )
    scanned_at = models.DateTimeField(null=True, blank=True)
    scan_signature = models.CharField(max_length=200, blank=True)
    # Why the last scan gave no verdict (PENDING being retried, or FAILED).
    scan_error = models.CharField(max_length=300, blank=True)
    # A PDF with JavaScript or automatic actions (documents.content_checks):
    # offered as a download only, never shown in the browser.
    has_scripts = models.BooleanField(default=False)

    # Maintained by the database (documents/migrations: search trigger).
    search_vector = SearchVectorField(null=True, editable=False)

    access_level = models.CharField(
        max_length=12, choices=AccessLevel.choices, default="standard"
    )
    visible_to_client = models.BooleanField(default=False)
    retention_until = models.DateField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            # Exactly one latest version per lineage (root id = parent or self).
            models.UniqueConstraint(
                Coalesce("parent_document", "id"),
                condition=models.Q(is_latest_version=True),
                name="document_one_latest_per_lineage",
            ),
            models.UniqueConstraint(
                Coalesce("parent_document", "id"),
                "version",
                name="document_version_unique_in_lineage",
            ),
            models.CheckConstraint(
                condition=models.Q(ocr_confidence__isnull=True)
                | models.Q(ocr_confidence__gte=0, ocr_confidence__lte=1),
                name="document_ocr_confidence_0_1",
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "ocr_status"], name="document_org_ocr_status"
            ),
            # The review queue's counts and its oldest rows (the dashboard's
            # panel, the review page's tabs): only the current versions that
            # wait for a person, a few thousand entries at the largest firm,
            # where the index above leads to every document's row.
            models.Index(
                fields=["organization", "ocr_status", "created_at", "id"],
                name="document_review_queue",
                condition=models.Q(
                    is_latest_version=True,
                    archived_at__isnull=True,
                    ocr_status__in=[OcrStatus.NEEDS_REVIEW, OcrStatus.FAILED],
                ),
            ),
            models.Index(
                fields=["client", "is_latest_version", "tax_year", "category"],
                name="document_client_latest",
            ),
            models.Index(
                fields=["client", "checksum"], name="document_client_checksum"
            ),
            # What the firm shared with a client, newest first (the portal's
            # shared documents, portal.selectors.shared_documents): a client's
            # shared rows only, in order, however many files it has unshared.
            models.Index(
                fields=["client", "created_at"],
                name="document_client_shared",
                condition=models.Q(visible_to_client=True, archived_at__isnull=True),
            ),
            models.Index(
                fields=["organization", "retention_until"],
                name="document_org_retention",
                condition=models.Q(legal_hold=False, is_latest_version=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def root_id(self) -> int:
        return self.parent_document_id or self.pk

    @property
    def is_quarantined(self) -> bool:
        return self.scan_status == ScanStatus.INFECTED

    @property
    def is_servable(self) -> bool:
        """Clean (or from before scanning / with no scanner): may be served."""
        return self.scan_status in SERVABLE_SCAN_STATUSES

    @property
    def is_scan_pending(self) -> bool:
        return self.scan_status == ScanStatus.PENDING


class DocumentAccess(TenantModel):
    """A person named on a restricted document (besides the engagement's partner
    and manager)."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="access_grants"
    )
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["document", "user"], name="documentaccess_unique"
            )
        ]


class DocumentTombstone(TenantModel):
    """What stays of a purged document version: its metadata and checksum."""

    document_uuid = models.UUIDField()
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    client_name = models.CharField(max_length=200)
    title = models.CharField(max_length=255)
    original_filename = models.CharField(max_length=255)
    category = models.CharField(max_length=24, choices=DocumentCategory.choices)
    tax_year = models.PositiveSmallIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField()
    size = models.BigIntegerField()
    checksum = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField()
    retention_until = models.DateField(null=True, blank=True)
    purged_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    purged_by_email = models.CharField(max_length=254)
    reason = models.CharField(max_length=200, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version} (purged)"


class SearchWord(models.Model):
    """Each firm's words of document titles, file names and tags: the dictionary
    that search corrects typos from. Written only by the search trigger and read
    only by the search function (documents/migrations/0002_search.py, which
    creates the table and its row-level security). The model exists so Django
    knows the table (a test database flush truncates it with the firms)."""

    pk = models.CompositePrimaryKey("organization_id", "word")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    word = models.TextField()

    objects = ScopedManager(organization="organization")

    class Meta:
        db_table = "documents_searchword"

    def __str__(self) -> str:
        return self.word


# Summaries kept by PostgreSQL ---------------------------------------------------------

# The day that stands for "no due date" in the summaries below: after every
# real day, so an item or a request without one is never overdue
# (advisoros.overdue), and a date Python can read (9999-12-31).
NO_DUE_DAY = date.max


class OutstandingDay(models.Model):
    """A firm's outstanding document requests by day, kept by the database:
    what the dashboard's "Requests outstanding" adds up for the whole firm
    (documents.services.requests.requests_outstanding), a row per due day
    however many items.

    Only open requests count. `owed_items` and `received_items` are the items
    still owed (OWED_STATUSES) and received to be accepted, by their due date;
    `request_count` the requests with at least one item, by the due date of their first owed
    item (NO_DUE_DAY when none is owed or dated): so the requests with an
    overdue item are exactly those counted before today. Written only by the
    triggers of documents/migrations/0011_outstanding_days.py, through each
    request's part (OutstandingPart). Never written by the application.
    """

    pk = models.CompositePrimaryKey("organization_id", "day")
    organization = models.ForeignKey(  # the key's first column: no index of its own
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    request_count = models.IntegerField(default=0)
    owed_items = models.IntegerField(default=0)
    received_items = models.IntegerField(default=0)

    objects = ScopedManager(organization="organization")
    kept_by_database = True  # not exported: an import's rows rebuild it

    class Meta:
        db_table = "documents_outstandingday"

    def __str__(self) -> str:
        return f"{self.day} of firm {self.organization_id}: {self.owed_items} owed"


class OutstandingPart(models.Model):
    """One open request's part of its firm's OutstandingDay rows, as last
    counted: a row per day it adds to. When a request or one of its items
    changes, the triggers count the request again from its items and add the
    difference to the days, so a write costs one request's few items whatever
    the firm's size. No foreign key constraint to the request: the triggers
    delete the part when the request goes (and a deleted request's part must
    still be there to be taken back)."""

    pk = models.CompositePrimaryKey("request_id", "day")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(
        DocumentRequest,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the key's first column
        related_name="+",
    )
    day = models.DateField()
    request_count = models.SmallIntegerField(default=0)
    owed_items = models.IntegerField(default=0)
    received_items = models.IntegerField(default=0)

    objects = ScopedManager(organization="organization")
    kept_by_database = True  # not exported: an import's rows rebuild it

    class Meta:
        db_table = "documents_outstandingpart"

    def __str__(self) -> str:
        return f"request {self.request_id} on {self.day}: {self.owed_items} owed"
