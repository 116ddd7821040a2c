"""The client portal: who of a firm's contacts may come in, and what they did there.

A person signs in once, with one email, as a `PortalAccount` (not a staff `User`:
a staff login never opens the portal and a portal session never opens a staff
page). In each firm the account is the `Contact` with the same email, and that
contact sees only the clients a `PortalGrant` names, with the grant's
capabilities. A `RequestLink` opens one document request without a password.
Everything a contact does is a `PortalActivity` row (the client timeline and the
contact's access log) and an audit event (the firm's hash-chained log).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from advisoros.crypto import EncryptedTextField
from advisoros.tenancy.models import TenantModel
from clients.models import Client, Contact, Engagement
from documents.models import Document, DocumentRequest

USER = settings.AUTH_USER_MODEL


class PortalAccount(models.Model):
    """One person's portal sign-in, across every firm whose contact they are.

    Not a tenant row (like the staff `User`): the firms it opens are found
    through each firm's contacts with this email and their grants.
    """

    uuid = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    email = models.EmailField(max_length=254)
    # A Django password hash; empty until the person sets one (codes by email work).
    password = models.CharField(max_length=128, blank=True)
    totp_secret = EncryptedTextField(blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)  # a code is used once
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="portalaccount_email_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    @property
    def has_two_factor(self) -> bool:
        return self.totp_confirmed_at is not None


class PortalSignInCode(models.Model):
    """A one-time code emailed to a person to sign in (minutes, a few tries)."""

    account = models.ForeignKey(
        PortalAccount, on_delete=models.CASCADE, related_name="codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "created_at"], name="portalcode_account")
        ]

    def __str__(self) -> str:
        return f"Sign-in code for account {self.account_id}"


class Capability(models.TextChoices):
    """What a grant allows; each is a boolean column of `PortalGrant`."""

    VIEW_DOCUMENTS = "can_view_documents", "See shared documents"
    UPLOAD = "can_upload", "Answer document requests"
    SIGN = "can_sign", "Sign engagement letters"
    MESSAGE = "can_message", "Message the firm"
    VIEW_INVOICES = "can_view_invoices", "See invoices"
    PAY = "can_pay", "Pay invoices"


class PortalGrant(TenantModel):
    """A contact may use the portal for one client, with these capabilities."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="portal_grants"
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="portal_grants"
    )
    can_view_documents = models.BooleanField("see shared documents", default=True)
    can_upload = models.BooleanField("answer document requests", default=True)
    can_sign = models.BooleanField("sign engagement letters", default=False)
    can_message = models.BooleanField("message the firm", default=True)
    can_view_invoices = models.BooleanField("see invoices", default=False)
    can_pay = models.BooleanField("pay invoices", default=False)
    granted_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "client"], name="portalgrant_one_per_client"
            )
        ]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["contact", "client"], name="portalgrant_contact"),
            models.Index(fields=["client"], name="portalgrant_client"),
        ]

    def __str__(self) -> str:
        return f"Portal access of contact {self.contact_id} to client {self.client_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, capability: Capability | str) -> bool:
        return self.is_active and bool(getattr(self, Capability(capability).value))

    @property
    def capability_labels(self) -> list[str]:
        return [c.label for c in Capability if getattr(self, c.value)]


class PortalInvitation(TenantModel):
    """The emailed link that welcomes a contact to the portal (used once)."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="portal_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Portal invitation for contact {self.contact_id}"


class RequestLink(TenantModel):
    """A link that opens one document request (its items only) without a password.

    The token itself is only ever in the email or on the staff member's screen:
    the row keeps its SHA-256. GET shows a "Continue" page; only the POST from it
    redeems the link (mail scanners open links on arrival).
    """

    request = models.ForeignKey(
        DocumentRequest, on_delete=models.CASCADE, related_name="portal_links"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="portal_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_used_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["request", "created_at"], name="requestlink_request"),
        ]

    def __str__(self) -> str:
        return f"Link to request {self.request_id} for contact {self.contact_id}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class Activity(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out"
    SIGNED_OUT = "signed_out", "Signed out"
    CODE_SENT = "code_sent", "Sign-in code sent"
    LINK_REDEEMED = "link_redeemed", "Opened a request link"
    LINK_REFUSED = "link_refused", "Request link refused"
    REQUEST_VIEWED = "request_viewed", "Viewed a request"
    DOCUMENT_VIEWED = "document_viewed", "Viewed a document"
    DOCUMENT_DOWNLOADED = "document_downloaded", "Downloaded a document"
    UPLOADED = "uploaded", "Uploaded a file"
    UPLOAD_REMOVED = "upload_removed", "Removed an upload"
    UPLOAD_REFUSED = "upload_refused", "Upload refused"
    LETTER_VIEWED = "letter_viewed", "Read an engagement letter"
    INVOICE_VIEWED = "invoice_viewed", "Viewed an invoice"
    INVOICE_DOWNLOADED = "invoice_downloaded", "Downloaded an invoice"
    LETTER_SIGNED = "letter_signed", "Signed an engagement letter"
    MESSAGE_SENT = "message_sent", "Sent a message"
    TWO_FACTOR_ENABLED = "2fa_enabled", "Two-factor enabled"
    PASSWORD_SET = "password_set", "Password set"
    DENIED = "denied", "Refused"


class PortalActivity(TenantModel):
    """One thing a contact did (or tried) in the portal, with where from."""

    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=24, choices=Activity.choices)
    summary = models.CharField(max_length=300, blank=True)
    via_link = models.ForeignKey(
        RequestLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["client", "created_at"], name="portalactivity_client"),
            models.Index(
                fields=["contact", "created_at"], name="portalactivity_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.email})"


class Message(TenantModel):
    """One message in a client's thread: from a contact, or from a member of the firm."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="portal_messages"
    )
    sender_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_client = models.BooleanField()
    body = models.TextField()
    # When the other side first read it: the firm (any member) for a client's
    # message, the client (any of its contacts) for the firm's.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["created_at", "id"]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["client", "created_at"], name="message_client"),
            models.Index(
                fields=["organization", "client"],
                name="message_unread_by_firm",
                condition=models.Q(from_client=True, read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.uuid}"


class MessageAttachment(TenantModel):
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments"
    )
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(fields=["message"], name="messageattachment_message"),
        ]

    def __str__(self) -> str:
        return f"Attachment {self.document_id} of message {self.message_id}"


class LetterSignature(TenantModel):
    """A client's electronic signature of an engagement letter: the exact file
    (its SHA-256 and a copy kept on the client's documents), the typed name,
    the consent statement shown, when and from where."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="letter_signatures"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    signed_name = models.CharField(max_length=200)
    consent_text = models.TextField()
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    letter_sha256 = models.CharField(max_length=64)
    letter_filename = models.CharField(max_length=255)
    letter_name = models.CharField(max_length=500)  # the stored file signed
    signed_copy = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-signed_at"]
        indexes = [
            *TenantModel.Meta.indexes,
            models.Index(
                fields=["engagement", "signed_at"], name="lettersig_engagement"
            ),
        ]

    def __str__(self) -> str:
        return f"Signed by {self.signed_name}"
