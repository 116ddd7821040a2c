"""The tenant (Organization), who belongs to it (Membership) and how they join (Invitation)."""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone
from django_scopes import ScopedManager


def logo_path(instance: Organization, filename: str) -> str:
    # Never the uploader's name: a fresh one each time, so a cached old logo is not shown.
    return f"private/{instance.pk}/branding/logo-{uuid.uuid4().hex[:12]}"


TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"
    READONLY = "readonly", "Read-only"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self.value]

    def at_least(self, other: Role | str) -> bool:
        return self.rank >= _ROLE_RANK[Role(other).value]


_ROLE_RANK = {"readonly": 0, "staff": 1, "manager": 2, "admin": 3, "owner": 4}


class Organization(models.Model):
    """One accounting firm: the tenant. Not itself row-level secured: its slug is public."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    timezone = models.CharField(
        max_length=64, choices=TIMEZONE_CHOICES, default="America/New_York"
    )
    require_two_factor = models.BooleanField(
        "require two-factor for all staff",
        default=False,
        help_text="Members must sign in with an authenticator app code.",
    )
    session_timeout_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="Sign members out after this many minutes without activity.",
    )
    assigned_clients_only = models.BooleanField(
        "staff see only the clients they are assigned to",
        default=False,
        help_text="Staff and read-only members see only clients where they are the "
        "partner, manager or assigned staff. Managers and above see every client.",
    )
    document_retention_years = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # The client portal (portal/): the firm's look on its pages and emails, and its rules.
    brand_color = models.CharField(
        "brand colour",
        max_length=7,
        default="#1d4ed8",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as #RRGGBB.")],
        help_text="Buttons and the header of the client portal and its emails.",
    )
    logo = models.FileField(
        upload_to=logo_path, max_length=300, blank=True, verbose_name="logo"
    )
    portal_link_days = models.PositiveSmallIntegerField(
        "request links valid for (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="A link in a request or reminder email opens that request only, "
        "without a password, for this many days.",
    )
    portal_require_two_factor = models.BooleanField(
        "require two-factor for clients",
        default=False,
        help_text="Clients who sign in to the portal must add an authenticator app.",
    )
    audit_checkpoint_email = models.BooleanField(
        "email audit checkpoints to the owners",
        default=False,
        help_text="Once a day the owners receive the signed checkpoint of the audit "
        "trail: a copy outside AdvisorOS that shows it was not rewritten.",
    )
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    # Offboarding (advisoros.tenancy.offboarding): a deactivated firm is read-only
    # for everyone (its pages and its export still open); a scheduled deletion
    # removes its rows and files when due, unless an owner cancels it first.
    deactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    deletion_scheduled_for = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the deletion ran: the row stays as a tombstone that the firm's
    # kept audit trail points to (docs/security.md (section 5)).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deactivated(self) -> bool:
        return self.deactivated_at is not None


class TenantModel(models.Model):
    """Base for every firm-owned model: the direct organization FK and the scoped manager.

    Its migration must also add `EnableRowLevelSecurity` (advisoros.tenancy.rls).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True
        indexes = [
            models.Index(
                fields=["organization", "created_at"],
                name="%(class)s_org_created",
            ),
        ]


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    is_active = models.BooleanField(default=True)
    # The workload page's capacity line (workflows.views.workload).
    weekly_capacity_hours = models.PositiveSmallIntegerField(
        "weekly capacity (hours)",
        default=40,
        validators=[MaxValueValidator(168)],
        help_text="The hours of work this person can take in a week.",
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique_user_per_org"
            ),
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["organization", "role"], name="membership_org_role"),
        ]
        ordering = ["user__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, minimum: Role | str) -> bool:
        return self.is_active and self.role_enum.at_least(minimum)

    @property
    def can_write(self) -> bool:
        return self.has_role(Role.STAFF)


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            # One open invitation per address and firm: inviting again resends it.
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > dj_timezone.now()
        )


class JobFailure(TenantModel):
    """A firm's background job that failed for good, after its retries.

    Recorded by `advisoros.tenancy.tasks.run_in_organization` on the last attempt;
    owners and admins see the list with the error and may retry the job.
    """

    func = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.func} failed"


def firm_export_path(instance: FirmExport, filename: str) -> str:
    return f"private/{instance.organization_id}/exports/{instance.uuid}.zip"


class FirmExport(TenantModel):
    """One full export of the firm (advisoros.tenancy.export): a zip built by a job.

    The zip holds the tax ids in plain text (docs/decisions.md), so only owners
    start one or download it, through a link valid for minutes, and the stored
    zip is deleted after `EXPORT_KEEP_DAYS`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (deleted)"

    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file = models.FileField(upload_to=firm_export_path, max_length=300, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.uuid} ({self.status})"


class AccessReview(TenantModel):
    """An owner's record that they reviewed who has access to the firm (the FTC
    Safeguards Rule asks for periodic access reviews). Shown on the Safeguards
    page (advisoros.tenancy.safeguards); each one is audited too."""

    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Access review of {self.created_at:%Y-%m-%d}"


# The firm's own subscription to AdvisorOS as a hosted service ------------------
# (advisoros.tenancy.plans; off when the platform's Stripe key is unset)


class Plan(models.Model):
    """A plan of the hosted service: the platform's price list, the same for
    every firm, so not a tenant table. A limit left empty is unlimited."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    stripe_price_id = models.CharField(
        "Stripe price id",
        max_length=255,
        blank=True,
        help_text="The recurring monthly price in the platform's Stripe account "
        "(price_...). Empty: the plan is shown but cannot be subscribed to.",
    )
    monthly_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="usd")
    max_members = models.PositiveIntegerField(
        null=True, blank=True, help_text="Active members and open invitations."
    )
    max_clients = models.PositiveIntegerField(
        null=True, blank=True, help_text="Clients that are not archived."
    )
    max_storage_gb = models.PositiveIntegerField(
        "max storage (GB)",
        null=True,
        blank=True,
        help_text="Every stored version of every document.",
    )
    trial_days = models.PositiveSmallIntegerField(default=14)
    is_default = models.BooleanField(
        default=False, help_text="New firms start a trial of this plan."
    )
    is_active = models.BooleanField(
        default=True, help_text="Offered on the firms' Subscription page."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="plan_one_default",
            ),
        ]
        ordering = ["monthly_price", "code"]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Payment failed"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"


class FirmSubscription(TenantModel):
    """The firm's subscription: its plan, where it stands, and its Stripe ids.

    A tenant row (its members read it, row-level security applies), one per
    firm, written by `advisoros.tenancy.plans` only: the trial when the firm is
    made, then what Stripe says (integrations.stripe.platform re-reads the
    subscription from Stripe on every event, so the order of events does not
    matter). `problem_since` is when a payment problem was first seen; the
    firm becomes read-only `PLATFORM_BILLING_GRACE_DAYS` after it.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.TRIALING,
    )
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    problem_since = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], name="firmsubscription_one_per_org"
            ),
            # Stripe's ids are global: the platform webhook finds the firm by it.
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~models.Q(stripe_customer_id=""),
                name="firmsubscription_customer_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} subscription of {self.organization_id} ({self.status})"
