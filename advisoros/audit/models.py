"""What happened, for whom: model changes (django-auditlog) and security events."""

from __future__ import annotations

import uuid
from contextlib import nullcontext

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from advisoros.audit.privacy import mask_private_changes
from advisoros.tenancy.db import current_organization_id, platform_bypass
from advisoros.tenancy.models import Organization


def organization_id_of(instance: models.Model) -> int | None:
    """The firm a changed object belongs to: its own FK, itself, or the active context."""
    if isinstance(instance, Organization):
        return instance.pk
    org_id = getattr(instance, "organization_id", None)
    return org_id if org_id is not None else current_organization_id()


def _writing_for(org_id: int | None):
    """The firm's context is active in the usual case; a firm's own creation, or a
    change made outside any firm (a sign-up, a password reset), is written by the
    audit writer under the bypass: INSERT ... RETURNING must also pass the read
    policy, which shows rows with no firm to the bypass only."""
    if org_id is not None and org_id == current_organization_id():
        return nullcontext()
    return platform_bypass()


class TenantLogEntryManager(LogEntryManager):
    def log_create(self, instance, force_log: bool = False, **kwargs):
        org_id = kwargs.setdefault("organization_id", organization_id_of(instance))
        # A private row's content is masked before it is stored: the table is
        # append-only, so what is written here stays (audit.privacy).
        if "changes" in kwargs:
            kwargs["changes"] = mask_private_changes(instance, kwargs["changes"])
        with _writing_for(org_id):
            return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(
        self, changed_queryset, instance, operation, field_name, **kwargs
    ):
        org_id = kwargs.setdefault("organization_id", organization_id_of(instance))
        with _writing_for(org_id):
            return super().log_m2m_changes(
                changed_queryset, instance, operation, field_name, **kwargs
            )


class LogEntry(AbstractLogEntry):
    """django-auditlog's entry with the firm it belongs to (AUDITLOG_LOGENTRY_MODEL).

    Rows with no firm (a platform change) are written but visible only under
    the platform bypass.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(
        organization="organization", _manager_class=TenantLogEntryManager
    )

    class Meta(AbstractLogEntry.Meta):
        indexes = [
            models.Index(
                fields=["organization", "timestamp"], name="logentry_org_time"
            ),
            # The change-log seals read each firm's entries in id order.
            models.Index(fields=["organization", "id"], name="logentry_org_id"),
        ]


class AuditAction(models.TextChoices):
    LOGIN_SUCCESS = "login_success", "Signed in"
    LOGIN_FAILURE = "login_failure", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out"
    LOGOUT = "logout", "Signed out"
    SESSION_EXPIRED = "session_expired", "Session expired"
    TWO_FACTOR_ENABLED = "2fa_enabled", "Two-factor enabled"
    TWO_FACTOR_DISABLED = "2fa_disabled", "Two-factor disabled"
    TWO_FACTOR_FAILURE = "2fa_failure", "Wrong two-factor code"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
    PASSWORD_RESET = "password_reset", "Password reset"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    INVITATION_SENT = "invitation_sent", "Invitation sent"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
    ROLE_CHANGED = "role_changed", "Role changed"
    MEMBER_DEACTIVATED = "member_deactivated", "Member deactivated"
    MEMBER_REACTIVATED = "member_reactivated", "Member reactivated"
    FIRM_CREATED = "firm_created", "Firm created"
    FIRM_SETTINGS_CHANGED = "firm_settings_changed", "Firm settings changed"
    FIRM_EXPORTED = "firm_exported", "Firm data exported"
    FIRM_EXPORT_DOWNLOADED = "firm_export_downloaded", "Firm export downloaded"
    FIRM_IMPORTED = "firm_imported", "Firm data imported"
    FIRM_DEACTIVATED = "firm_deactivated", "Firm deactivated"
    FIRM_REACTIVATED = "firm_reactivated", "Firm reactivated"
    FIRM_DELETION_SCHEDULED = "firm_deletion_scheduled", "Firm deletion scheduled"
    FIRM_DELETION_CANCELLED = "firm_deletion_cancelled", "Firm deletion cancelled"
    FIRM_DELETED = "firm_deleted", "Firm data deleted"
    ACCESS_REVIEWED = "access_reviewed", "Access reviewed"
    SUBSCRIPTION_CHANGED = "subscription_changed", "Subscription changed"
    AUDIT_EXPORTED = "audit_exported", "Audit log exported"
    AUDIT_CHAIN_KEYED = "audit_chain_keyed", "Audit chain put under the key"
    AUDIT_CHECKPOINT_CREATED = "audit_checkpoint_created", "Audit checkpoint created"
    CLIENTS_EXPORTED = "clients_exported", "Clients exported"
    REPORT_EXPORTED = "report_exported", "Money report exported"
    STATEMENT_DOWNLOADED = "statement_downloaded", "Statement file downloaded"
    CLIENTS_IMPORTED = "clients_imported", "Clients imported"
    ENGAGEMENT_LETTER_DOWNLOADED = (
        "engagement_letter_downloaded",
        "Engagement letter downloaded",
    )
    ENGAGEMENT_LETTER_ACCEPTED = (
        "engagement_letter_accepted",
        "Engagement letter accepted",
    )
    DOCUMENT_VIEWED = "document_viewed", "Document viewed"
    DOCUMENT_DOWNLOADED = "document_downloaded", "Document downloaded"
    DOCUMENT_PURGED = "document_purged", "Document purged"
    DOCUMENT_LEGAL_HOLD = "document_legal_hold", "Legal hold changed"
    DOCUMENTS_ARCHIVED = "documents_archived", "Documents archived (retention)"
    DOCUMENT_QUARANTINED = "document_quarantined", "Document quarantined (virus)"
    # The client portal (portal/): what a client's contact did, and what staff
    # changed about their access. Written by portal.activity.
    PORTAL_SIGNED_IN = "portal_signed_in", "Portal: signed in"
    PORTAL_SIGN_IN_FAILED = "portal_sign_in_failed", "Portal: failed sign-in"
    PORTAL_LOCKED_OUT = "portal_locked_out", "Portal: locked out"
    PORTAL_SIGNED_OUT = "portal_signed_out", "Portal: signed out"
    PORTAL_CODE_SENT = "portal_code_sent", "Portal: sign-in code sent"
    PORTAL_LINK_REDEEMED = "portal_link_redeemed", "Portal: request link opened"
    PORTAL_LINK_REFUSED = "portal_link_refused", "Portal: request link refused"
    PORTAL_REQUEST_VIEWED = "portal_request_viewed", "Portal: request viewed"
    PORTAL_DOCUMENT_VIEWED = "portal_document_viewed", "Portal: document viewed"
    PORTAL_DOCUMENT_DOWNLOADED = (
        "portal_document_downloaded",
        "Portal: document downloaded",
    )
    PORTAL_UPLOADED = "portal_uploaded", "Portal: file uploaded"
    PORTAL_UPLOAD_REMOVED = "portal_upload_removed", "Portal: upload removed"
    PORTAL_UPLOAD_REFUSED = "portal_upload_refused", "Portal: upload refused"
    PORTAL_LETTER_VIEWED = "portal_letter_viewed", "Portal: letter read"
    PORTAL_INVOICE_VIEWED = "portal_invoice_viewed", "Portal: invoice viewed"
    PORTAL_INVOICE_DOWNLOADED = (
        "portal_invoice_downloaded",
        "Portal: invoice PDF opened",
    )
    PORTAL_LETTER_SIGNED = "portal_letter_signed", "Portal: letter signed"
    PORTAL_MESSAGE_SENT = "portal_message_sent", "Portal: message sent"
    PORTAL_2FA_ENABLED = "portal_2fa_enabled", "Portal: two-factor enabled"
    PORTAL_PASSWORD_SET = "portal_password_set", "Portal: password set"
    PORTAL_DENIED = "portal_denied", "Portal: access refused"
    PORTAL_ACCESS_GRANTED = "portal_access_granted", "Portal access granted"
    PORTAL_ACCESS_REVOKED = "portal_access_revoked", "Portal access revoked"
    PORTAL_INVITED = "portal_invited", "Invited to the portal"
    PORTAL_LINK_CREATED = "portal_link_created", "Request link made"
    PORTAL_LINK_REVOKED = "portal_link_revoked", "Request links revoked"


def audit_action_choices() -> list[tuple[str, str]]:
    """A callable, so that an app adding an action needs no migration of this table."""
    return AuditAction.choices


class AuditEvent(models.Model):
    """A security event. Append-only: written through `audit.services.audit_event_record`."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    action = models.CharField(max_length=40, choices=audit_action_choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too: the account may be deleted, or never have existed (a failed login).
    actor_email = models.CharField(max_length=254, blank=True)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Each firm's events form a hash chain (the platform's firm-less events one
    # more): `audit.chain`, checked by `manage.py audit_verify`.
    sequence = models.PositiveBigIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)
    # How `hash` was made (audit.chain: 1 plain SHA-256, 2 HMAC with the audit key).
    chain_version = models.PositiveSmallIntegerField(default=1, editable=False)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One event per place in a chain; the platform's chain (no firm) too.
            models.UniqueConstraint(
                fields=["organization", "sequence"],
                condition=models.Q(sequence__isnull=False),
                nulls_distinct=False,
                name="auditevent_chain_position",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="auditevent_org_created"
            ),
            models.Index(
                fields=["organization", "action", "created_at"],
                name="auditevent_org_action",
            ),
            models.Index(
                fields=["organization", "actor", "created_at"],
                name="auditevent_org_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_email or 'unknown'}"


class ChangeLogSeal(models.Model):
    """One sealed batch of a firm's change log (audit.integrity).

    The change log is written by every audited save, so it is not chained entry
    by entry (that would put every save in the firm behind one lock). A job
    seals the entries written since the last batch instead, in id order: the
    batch's digest is an HMAC over the previous batch's digest and every entry's
    content. Append-only, like the entries it covers.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sequence = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    count = models.PositiveIntegerField()
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["organization", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sequence"],
                nulls_distinct=False,
                name="changelogseal_position",
            ),
        ]

    def __str__(self) -> str:
        return f"Seal #{self.sequence}: entries {self.first_id}-{self.last_id}"


class AuditCheckpoint(models.Model):
    """The index of a signed checkpoint file in the file store (audit.integrity).

    The file is the truth: verification reads the newest file it finds in the
    store, and uses this row only to notice a file that has gone missing.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    name = models.CharField(max_length=300)  # its path in the default storage
    events = models.PositiveBigIntegerField()
    events_head_digest = models.CharField(max_length=64)
    seals = models.PositiveBigIntegerField()
    seals_head_digest = models.CharField(max_length=64)
    sealed_entries = models.PositiveBigIntegerField()
    signature = models.CharField(max_length=64)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="auditcheckpoint_org_time"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CspReport(models.Model):
    """A browser's report that a page broke the Content-Security-Policy.

    Platform-wide, not a firm's: reports arrive unauthenticated, so nothing in
    them is trusted to name a firm (the page's path, kept without its query,
    says where it happened). Written by advisoros.audit.csp, read in the admin
    by platform staff.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    document_uri = models.CharField(max_length=500, blank=True)
    violated_directive = models.CharField(max_length=200, blank=True)
    blocked_uri = models.CharField(max_length=500, blank=True)
    source_file = models.CharField(max_length=500, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    column_number = models.PositiveIntegerField(null=True, blank=True)
    disposition = models.CharField(max_length=20, blank=True)  # enforce / report
    sample = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="cspreport_created")]

    def __str__(self) -> str:
        return f"{self.violated_directive or 'CSP'} on {self.document_uri}"
