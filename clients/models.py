"""The firm's CRM: clients, the people behind them, service contracts and notes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce, Lower
from django_scopes import ScopedManager

from advisoros.crypto import EncryptedTextField
from advisoros.tenancy.models import Organization, TenantModel
from clients.text import fold

USER = settings.AUTH_USER_MODEL


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of a stored choice. Lists use this: Django's get_FOO_display()
    rebuilds a dict of all the field's choices on every call (tens of
    microseconds, three times a row on a 50-row page)."""
    try:
        return choices(value).label
    except ValueError:
        return value


class EntityType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    SOLE_PROPRIETORSHIP = "sole_proprietorship", "Sole proprietorship"
    LLC = "llc", "LLC"
    S_CORP = "s_corp", "S corporation"
    C_CORP = "c_corp", "C corporation"
    PARTNERSHIP = "partnership", "Partnership"
    NONPROFIT = "nonprofit", "Nonprofit"
    TRUST_ESTATE = "trust_estate", "Trust / estate"

    @property
    def is_person(self) -> bool:
        return self in (EntityType.INDIVIDUAL, EntityType.SOLE_PROPRIETORSHIP)


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    ARCHIVED = "archived", "Archived"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Tag(TenantModel):
    """A firm's own label for clients ("VIP", "Extension filed", "Payroll")."""

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, default="#64748b")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="tag_unique_name_per_org"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


_CODE_WORDS = re.compile(r"[A-Z0-9]+")


def client_code_base(display_name: str, entity_type: str) -> str:
    """SMITH-J for a person (last name, first initial), ACME for a business."""
    words = _CODE_WORDS.findall(fold(display_name).upper()) or ["CLIENT"]
    # Individuals are filed by last name; a sole proprietor usually trades under a
    # business name ("Lee Photography"), so it gets the business rule.
    if entity_type == EntityType.INDIVIDUAL and len(words) > 1:
        return f"{words[-1][:12]}-{words[0][0]}"
    return words[0][:12]


class ClientCodes:
    """The codes in use in a firm, to give clients without one the next free code:
    SMITH-J, then SMITH-J2, SMITH-J3 (compared upper-case, as the unique
    constraint compares them lower-case). A bulk writer keeps one for the whole
    batch, so rows sharing a base count on without asking the database again."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = {code.upper() for code in taken}
        self._next: dict[str, int] = {}

    @classmethod
    def of_firm(cls, organization_id: int, *, starting: str = "") -> ClientCodes:
        """The firm's codes (those starting with `starting`: all a claim of that
        base can collide with)."""
        qs = Client.objects.filter(organization_id=organization_id)
        if starting:
            qs = qs.filter(client_code__istartswith=starting)
        return cls(qs.values_list("client_code", flat=True))

    def reserve(self, code: str) -> None:
        self.taken.add(code.upper())

    def claim(self, base: str) -> str:
        n = self._next.get(base, 1)
        code = base if n == 1 else f"{base}{n}"
        while code in self.taken:
            n += 1
            code = f"{base}{n}"
        self._next[base] = n + 1
        self.taken.add(code)
        return code


class Client(TenantModel):
    client_code = models.CharField(
        "client code",
        max_length=20,
        help_text="A short code unique in the firm, e.g. SMITH-J.",
    )
    display_name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    # Lower-cased display name: the list's sort key and keyset cursor.
    sort_name = models.CharField(max_length=200, editable=False, db_collation="C")
    entity_type = models.CharField(
        max_length=24, choices=EntityType.choices, default=EntityType.INDIVIDUAL
    )
    status = models.CharField(
        max_length=12, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    risk_level = models.CharField(
        max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    industry = models.CharField(max_length=100, blank=True)
    fiscal_year_end_month = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    fiscal_year_end_day = models.PositiveSmallIntegerField(
        default=31, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    # Encrypted at rest; pages show only the last four digits.
    tax_id = EncryptedTextField("tax id", blank=True)
    tax_id_last4 = models.CharField(max_length=4, blank=True, editable=False)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    tags = models.ManyToManyField(
        Tag, through="ClientTag", related_name="clients", blank=True
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    partner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    manager = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="assigned staff",
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("client_code"), name="client_code_unique_per_org"
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            # The list: name order (keyset), newest first, and status filters.
            models.Index(
                fields=["organization", "sort_name", "id"], name="client_org_name"
            ),
            models.Index(
                fields=["organization", "status", "sort_name", "id"],
                name="client_org_status_name",
            ),
            # Entity-type filters, alone or with a status: a range in name order
            # instead of a walk that skips the other types.
            models.Index(
                fields=["organization", "entity_type", "sort_name", "id"],
                name="client_org_type_name",
            ),
            models.Index(
                fields=["organization", "status", "entity_type", "sort_name", "id"],
                name="client_org_status_type_name",
            ),
            models.Index(
                fields=["organization", "client_code"], name="client_org_code"
            ),
            models.Index(fields=["organization", "partner"], name="client_org_partner"),
            models.Index(fields=["organization", "manager"], name="client_org_manager"),
            models.Index(fields=["organization", "staff"], name="client_org_staff"),
            models.Index(
                fields=["organization", "tax_id_last4"], name="client_org_tin4"
            ),
        ]
        ordering = ["sort_name", "id"]

    def __str__(self) -> str:
        return self.display_name

    def derive_fields(self, codes: ClientCodes | None = None) -> None:
        """Fill the fields computed from others, as every writer of a client must
        (the service, the CSV import, the bench seeder): the sort name, the last
        four digits of the tax id (all the pages show of it), and a code when
        none was given. Call it once the tax id is normalised.

        Pure on an unsaved client but for `codes`, the firm's codes in use;
        without them the firm's codes of this base are read when a code is needed.
        """
        self.sort_name = fold(self.display_name)[:200]
        self.tax_id_last4 = self.tax_id[-4:] if self.tax_id else ""
        self.client_code = (self.client_code or "").strip().upper()
        if not self.client_code:
            base = client_code_base(self.display_name, self.entity_type)
            if codes is None:
                codes = ClientCodes.of_firm(self.organization_id, starting=base)
            self.client_code = codes.claim(base)

    @property
    def entity_type_label(self) -> str:
        return choice_label(EntityType, self.entity_type)

    @property
    def status_label(self) -> str:
        return choice_label(ClientStatus, self.status)

    @property
    def tax_id_masked(self) -> str:
        return f"•••-••-{self.tax_id_last4}" if self.tax_id_last4 else ""

    @property
    def fiscal_year_end(self) -> str:
        return f"{self.fiscal_year_end_month:02d}/{self.fiscal_year_end_day:02d}"

    @property
    def is_archived(self) -> bool:
        return self.status == ClientStatus.ARCHIVED


class ClientTag(TenantModel):
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="client_tags"
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="client_tags")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["client", "tag"], name="clienttag_unique")
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "tag", "client"], name="clienttag_org_tag"
            ),
        ]


class RelationshipKind(models.TextChoices):
    SPOUSE = "spouse", "Spouse"
    HOUSEHOLD = "household", "Same household"
    PARENT_COMPANY = "parent_company", "Parent company of"
    OWNER = "owner", "Owner of"
    RELATED = "related", "Related"


class ClientRelationship(TenantModel):
    """A link between two clients (spouse, household, parent company, owner)."""

    from_client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="relationships_from"
    )
    to_client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="relationships_to"
    )
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["from_client", "to_client", "kind"], name="relationship_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_client=models.F("to_client")),
                name="relationship_not_self",
            ),
        ]


class Contact(TenantModel):
    """A person: linked to one or more clients, with a role on each."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=100, blank=True)
    clients = models.ManyToManyField(
        Client, through="ClientContact", related_name="contacts"
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=~models.Q(email=""),
                name="contact_email_unique_per_org",
            ),
        ]
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    BILLING = "billing", "Billing"
    SPOUSE = "spouse", "Spouse"
    OFFICER = "officer", "Officer"
    OTHER = "other", "Other"


class ClientContact(TenantModel):
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="client_contacts"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="client_contacts"
    )
    role = models.CharField(
        max_length=12, choices=ContactRole.choices, default=ContactRole.PRIMARY
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client", "contact", "role"], name="clientcontact_unique_role"
            )
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "contact"], name="clientcontact_org_contact"
            ),
        ]


class EngagementType(models.TextChoices):
    INDIVIDUAL_TAX = "individual_tax", "Individual tax return"
    BUSINESS_TAX = "business_tax", "Business tax return"
    BOOKKEEPING = "bookkeeping", "Bookkeeping"
    PAYROLL = "payroll", "Payroll"
    ADVISORY = "advisory", "Advisory"
    AUDIT = "audit", "Audit"
    REVIEW = "review", "Review"
    COMPILATION = "compilation", "Compilation"
    OTHER = "other", "Other"


class EngagementStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    IN_PROGRESS = "in_progress", "In progress"
    REVIEW = "review", "In review"
    COMPLETED = "completed", "Completed"
    ON_HOLD = "on_hold", "On hold"
    CANCELLED = "cancelled", "Cancelled"


# Finished engagements; every other status is open work (listed by default, and
# overdue once past its due date: advisoros.overdue).
CLOSED_ENGAGEMENT_STATUSES = (EngagementStatus.COMPLETED, EngagementStatus.CANCELLED)
OPEN_ENGAGEMENT_STATUSES = tuple(
    s for s in EngagementStatus if s not in CLOSED_ENGAGEMENT_STATUSES
)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class FeeModel(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    FIXED = "fixed", "Fixed fee"
    RETAINER = "retainer", "Retainer"


# Engagements without a due date sort after every dated one. The list pages by
# (due_sort, id): a NULL in a keyset tuple compares as unknown and would drop those
# rows, so the key is the due date coalesced to a far-future date. It is a stored
# column, not an expression in the query: under row-level security PostgreSQL
# treats COALESCE as possibly leaky and will not use it as an index condition,
# so every deeper page would rescan the pages before it.
NO_DUE_DATE = date(9999, 12, 31)


def engagement_due_key() -> Coalesce:
    return Coalesce("due_date", models.Value(NO_DUE_DATE))


def engagement_letter_path(instance: Engagement, filename: str) -> str:
    # Never the user's file name in the path: it is kept for display only.
    return f"private/{instance.organization_id}/engagement-letters/{instance.uuid}.pdf"


class Engagement(TenantModel):
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="engagements"
    )
    name = models.CharField(max_length=200)
    engagement_type = models.CharField(max_length=20, choices=EngagementType.choices)
    tax_year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1990), MaxValueValidator(2100)],
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12,
        choices=EngagementStatus.choices,
        default=EngagementStatus.PLANNING,
    )
    priority = models.CharField(
        max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    completed_date = models.DateField(null=True, blank=True)
    fee_model = models.CharField(
        max_length=10, choices=FeeModel.choices, default=FeeModel.FIXED
    )
    hourly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    fee_amount = models.DecimalField(
        "fixed fee / retainer amount",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    budgeted_hours = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True
    )
    due_sort = models.GeneratedField(
        expression=engagement_due_key(),
        output_field=models.DateField(),
        db_persist=True,
    )
    partner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    manager = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preparer = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewer = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    letter = models.FileField(
        "engagement letter", upload_to=engagement_letter_path, blank=True
    )
    letter_filename = models.CharField(max_length=255, blank=True)
    letter_accepted_at = models.DateTimeField(null=True, blank=True)
    letter_accepted_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    letter_accepted_by_name = models.CharField(max_length=200, blank=True)
    letter_accepted_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "status"], name="engagement_org_status"
            ),
            models.Index(
                fields=["organization", "client", "status"],
                name="engagement_org_client",
            ),
            models.Index(
                fields=["organization", "due_sort", "id"],
                name="engagement_org_due_sort",
            ),
            models.Index(
                fields=["organization", "tax_year"], name="engagement_org_year"
            ),
            models.Index(
                fields=["organization", "partner"], name="engagement_org_partner"
            ),
            models.Index(
                fields=["organization", "manager"], name="engagement_org_manager"
            ),
            models.Index(
                fields=["organization", "preparer"], name="engagement_org_preparer"
            ),
            models.Index(
                fields=["organization", "reviewer"], name="engagement_org_reviewer"
            ),
        ]
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def letter_accepted(self) -> bool:
        return self.letter_accepted_at is not None

    @property
    def engagement_type_label(self) -> str:
        return choice_label(EngagementType, self.engagement_type)

    @property
    def status_label(self) -> str:
        return choice_label(EngagementStatus, self.status)

    @property
    def priority_label(self) -> str:
        return choice_label(Priority, self.priority)


class NoteType(models.TextChoices):
    GENERAL = "general", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    REMINDER = "reminder", "Reminder"


class Note(TenantModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notes")
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notes",
    )
    author = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note_type = models.CharField(
        max_length=10, choices=NoteType.choices, default=NoteType.GENERAL
    )
    body = models.TextField()
    is_private = models.BooleanField("private (only me)", default=False)
    is_pinned = models.BooleanField("pinned", default=False)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["organization", "client", "created_at"], name="note_org_client"
            ),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(reminded_at__isnull=True),
                name="note_due_reminders",
            ),
        ]
        ordering = ["-is_pinned", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_note_type_display()} on {self.client_id}"


class ClientSearchToken(models.Model):
    """Words a client is found by: names, code, contacts' names and emails, TIN last four.

    Searching is a prefix range on `token` (C collation): btree comparisons are
    leakproof, so PostgreSQL can use the index below the row-level security
    policy, where LIKE and pg_trgm operators cannot. Rebuilt by
    `clients.services.search.search_index_clients`.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=100, db_collation="C")
    # Copies of the client's sort key and archived state, so that a one-word
    # search pages through the tokens alone (`clients.selectors.client_page`)
    # instead of probing every matching client: constant cost however many
    # clients share a common prefix.
    sort_name = models.CharField(max_length=200, db_collation="C", default="")
    archived = models.BooleanField(default=False)

    objects = ScopedManager(organization="organization")

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "token"],
                include=["archived", "sort_name", "client"],
                name="searchtoken_org_token_page",
            ),
            # A search walks clients in name order and probes each one's tokens
            # for the typed prefix: (client, token) answers that in one descent.
            models.Index(fields=["client", "token"], name="searchtoken_client_token"),
        ]

    def __str__(self) -> str:
        return self.token


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Waiting for confirmation"
    QUEUED = "queued", "Importing"
    IMPORTED = "imported", "Imported"
    CANCELLED = "cancelled", "Cancelled"


class ClientImport(TenantModel):
    """An uploaded CSV between its preview and its all-or-nothing import."""

    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    # The uploaded CSV holds whole tax ids: encrypted like Client.tax_id, kept out
    # of the change log (settings.AUDITLOG_INCLUDE_TRACKING_MODELS) and emptied
    # once imported.
    content = EncryptedTextField()
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    imported_clients = models.PositiveIntegerField(default=0)
    imported_contacts = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename}"
