"""Secure messages between a client's portal contacts and the firm.

A client has one thread: its messages, oldest first, each from one of its
contacts (`from_client`) or from a member of the firm. `read_at` is when the
other side first opened the thread.

An attachment is a document of the client, stored through
`documents.services.documents.document_create` like any other upload (checked,
hashed, OCR queued), filed as correspondence and shown to the client
(`visible_to_client`): a file sent in the conversation is one both sides have.

The emails only say that a message is waiting, with a link to the thread: never
its text nor its files, since an email is not a secure channel.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.email import absolute_url, branded_email
from advisoros.tenancy.models import Membership, Organization, Role
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.models import Client, Contact
from documents.models import Document, DocumentCategory, DocumentSource, ScanStatus
from documents.services.documents import document_create, max_upload_bytes
from documents.storage import document_file_delete
from documents.upload import CheckedUpload, UploadQuarantined, validate_upload
from portal.activity import portal_activity_record
from portal.models import Activity, Message, MessageAttachment, PortalGrant

BODY_MAX = 10_000  # characters: a long letter, not a pasted ledger
EMAIL_JOB = "portal.tasks_messages.message_waiting_emails_job"


def message_send(
    *,
    client: Client,
    body: str,
    sender_contact: Contact | None = None,
    sender_user: User | None = None,
    files: Iterable[File] = (),
    request: HttpRequest | None = None,
) -> Message:
    """Add a message to the client's thread with its attachments; the emails that
    say one is waiting go once the transaction commits. A contact's message is
    also recorded as portal activity (timeline, access log and audit event),
    without its text.

    All or nothing: every file is checked (`validate_upload`) before anything is
    written, so a refused file raises `UploadRejected` and nothing is sent,
    neither the text nor the other files. The view then shows the form again
    with the text as it was typed and the file's reason: the sender removes or
    replaces the file and sends again (a browser cannot keep chosen files, but
    the text it can). A message is never delivered without a file its sender
    meant to attach, and never sent twice because a file was refused.

    Raises ValidationError for a message with neither text nor files, a text
    over BODY_MAX characters, or not exactly one sender.
    """
    body = body.strip()
    files = list(files)
    _check(client, body, sender_contact, sender_user, has_files=bool(files))
    uploads = _checked_uploads(files, client.organization_id)
    _refuse_infected(uploads, client, sender_contact, sender_user)
    stored: list[Document] = []
    try:
        with transaction.atomic():
            message = Message.objects.create(
                organization_id=client.organization_id,
                client=client,
                sender_contact=sender_contact,
                sender_user=sender_user,
                from_client=sender_contact is not None,
                body=body,
            )
            for upload in uploads:
                document = _attach(message, upload)
                stored.append(document)
            if sender_contact is not None:
                _record(message, stored, request)
            enqueue_for_organization(
                EMAIL_JOB, client.organization, message_id=message.pk
            )
    except BaseException:
        # The rows are rolled back; the files already stored are not.
        for document in stored:
            document_file_delete(document.file.name)
        for upload in uploads:
            upload.close()
        raise
    return message


def _check(
    client: Client,
    body: str,
    sender_contact: Contact | None,
    sender_user: User | None,
    *,
    has_files: bool,
) -> None:
    if (sender_contact is None) == (sender_user is None):
        raise ValidationError("A message has exactly one sender.")
    if (
        sender_contact is not None
        and sender_contact.organization_id != client.organization_id
    ):
        raise ValidationError("The sender is not a contact of this firm.")
    if not body and not has_files:
        raise ValidationError({"body": "Write a message or attach a file."})
    if len(body) > BODY_MAX:
        raise ValidationError(
            {
                "body": f"A message can be up to {BODY_MAX:,} characters long "
                f"(this one has {len(body):,}). Send it in parts, or as a file."
            }
        )


def _checked_uploads(files: list[File], organization_id: int) -> list[CheckedUpload]:
    """Every file checked, or UploadRejected for the first refused one (the
    temporary files of all of them are gone then)."""
    limit = max_upload_bytes(organization_id)
    checked: list[CheckedUpload] = []
    try:
        for file in files:
            checked.append(
                validate_upload(file=file, filename=_name(file), max_bytes=limit)
            )
    except BaseException:
        for upload in checked:
            upload.close()
        for file in files:
            file.close()
        raise
    return checked


def _refuse_infected(
    uploads: list[CheckedUpload],
    client: Client,
    sender_contact: Contact | None,
    sender_user: User | None,
) -> None:
    """A message with an infected attachment is not sent: the infected files are
    quarantined (recorded, alerted, never served), the others dropped, and
    UploadQuarantined raised (its message names no signature)."""
    infected = [u for u in uploads if u.scan.status == ScanStatus.INFECTED]
    if not infected:
        return
    refusal: UploadQuarantined | None = None
    for upload in uploads:
        if upload.scan.status != ScanStatus.INFECTED:
            upload.close()
            continue
        try:
            document_create(
                client=client,
                file=upload.file,
                filename=upload.original_filename,
                uploaded_by=sender_user,
                uploaded_by_contact=sender_contact,
                source=DocumentSource.PORTAL
                if sender_contact
                else DocumentSource.STAFF,
                category=DocumentCategory.CORRESPONDENCE,
                description="Attached to a secure message that was not sent.",
            )
        except UploadQuarantined as exc:
            refusal = refusal or exc
    raise refusal or UploadQuarantined(infected[0].filename, "")


def _name(file: File) -> str:
    """As the sender named it (an upload's own name, path and all), else the file's."""
    return getattr(file, "original_name", "") or file.name or "unnamed"


def _attach(message: Message, upload: CheckedUpload) -> Document:
    contact = message.sender_contact
    document = document_create(
        client=message.client,
        file=upload.file,  # checked and hashed already: not copied again
        filename=upload.original_filename,
        uploaded_by=message.sender_user,
        uploaded_by_contact=contact,
        source=DocumentSource.PORTAL if contact else DocumentSource.STAFF,
        category=DocumentCategory.CORRESPONDENCE,
        description="Attached to a secure message.",
        visible_to_client=True,
    )
    MessageAttachment.objects.create(
        organization_id=message.organization_id, message=message, document=document
    )
    return document


def _record(
    message: Message, documents: list[Document], request: HttpRequest | None
) -> None:
    count = len(documents)
    files = f" with {count} attachment{'s' if count != 1 else ''}" if count else ""
    portal_activity_record(
        organization_id=message.organization_id,
        action=Activity.MESSAGE_SENT,
        request=request,
        contact=message.sender_contact,
        client=message.client,
        summary=f"Sent a message{files}",
        detail={
            "message": str(message.uuid),
            "documents": [
                {"document": str(d.uuid), "sha256": d.checksum, "size": d.size}
                for d in documents
            ],
        },
    )


def thread_mark_read(*, client: Client, by_firm: bool) -> int:
    """The other side's unread messages of the thread are read now: the client's
    when the firm opens it (`by_firm`), the firm's when a contact does.
    Returns how many."""
    return Message.objects.filter(
        organization_id=client.organization_id,
        client=client,
        from_client=by_firm,
        read_at__isnull=True,
    ).update(read_at=timezone.now())


# Emails ---------------------------------------------------------------------------


def message_waiting_emails(*, message: Message) -> int:
    """Tell the other side a message is waiting (never what it says). A client's
    message goes to the members assigned to the client (partner, manager,
    staff), or to the firm's owners and admins when none is; the firm's goes to
    the client's contacts whose access allows messages. One email each, so no
    one sees the others' addresses. Returns how many were sent."""
    if message.from_client:
        return _email_firm(message)
    return _email_contacts(message)


def _email_firm(message: Message) -> int:
    client = message.client
    organization = client.organization
    members = Membership.objects.filter(
        organization=organization, is_active=True, user__is_active=True
    ).values_list("user_id", "user__email", "role")
    assigned = {client.partner_id, client.manager_id, client.staff_id} - {None}
    emails = sorted({email for uid, email, _ in members if uid in assigned})
    if not emails:
        heads = {Role.OWNER, Role.ADMIN}
        emails = sorted({email for _, email, role in members if role in heads})
    url = absolute_url(
        reverse(
            "portal_staff:thread",
            kwargs={"org_slug": organization.slug, "client_uuid": client.uuid},
        )
    )
    sender = message.sender_contact.full_name if message.sender_contact else ""
    for email in emails:
        branded_email(
            organization,
            subject=f"New secure message from {client.display_name}",
            to=[email],
            text_template="portal/email/message_waiting_firm.txt",
            context={"client": client, "sender": sender, "url": url},
            button=("Open the conversation", url),
        ).send()
    return len(emails)


def _email_contacts(message: Message) -> int:
    client = message.client
    organization = client.organization
    grants = (
        PortalGrant.objects.filter(
            organization=organization,
            client=client,
            revoked_at__isnull=True,
            can_message=True,
        )
        .exclude(contact__email="")
        .select_related("contact")
        .order_by("contact_id")
    )
    url = absolute_url(
        reverse(
            "portal:message_thread",
            kwargs={"org_slug": organization.slug, "client_uuid": client.uuid},
        )
    )
    sender = message.sender_user.name if message.sender_user else ""
    sent = 0
    for grant in grants:
        branded_email(
            organization,
            subject=f"New secure message from {organization.name}",
            to=[grant.contact.email],
            text_template="portal/email/message_waiting.txt",
            context={
                "contact": grant.contact,
                "client": client,
                "sender": sender,
                "url": url,
            },
            button=("Read the message", url),
        ).send()
        sent += 1
    return sent


def message_waiting_emails_for(*, organization: Organization, message_id: int) -> int:
    """The job's body: the message, if it still exists, read in its firm."""
    message = (
        Message.objects.filter(organization=organization, pk=message_id)
        .select_related(
            "client", "client__organization", "sender_contact", "sender_user"
        )
        .first()
    )
    return message_waiting_emails(message=message) if message is not None else 0
