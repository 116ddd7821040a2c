"""Writes about documents: upload, new versions, restore, metadata.

A document is a lineage of versions (see documents.models). Everything a person
decides about a document (title, category, tax year, tags, description, access,
visibility to the client) belongs to the lineage: a new version inherits it from
the latest one and an edit applies to every version, so an older version can
never be more visible than the latest.

Files are stored before the row is written (the row never points at nothing) and
deleted again when the write fails, so a failure leaves neither behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max, Q, Sum

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.plans import STORAGE, plan_limit_check, platform_billing_on
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.models import Client, Contact, Engagement
from documents.models import (
    AccessLevel,
    Document,
    DocumentAccess,
    DocumentCategory,
    DocumentRequestItem,
    DocumentSource,
    OcrStatus,
    ScanStatus,
)
from documents.scanning import ScanVerdict
from documents.services.ocr import enqueue_ocr
from documents.services.settings import document_settings_for
from documents.storage import document_file_delete, document_open, document_store
from documents.upload import (
    CheckedUpload,
    IncomingFile,
    UploadOverPlan,
    UploadQuarantined,
    UploadRejected,
    download_filename,
    validate_upload,
)

# What a new version takes over from the latest one, and what an edit changes on
# every version of the lineage.
LINEAGE_FIELDS = (
    "title",
    "category",
    "tax_year",
    "tags",
    "description",
    "engagement",
    "access_level",
    "visible_to_client",
)
# Not checked by full_clean: the file (stored separately), and foreign keys (each
# would cost a query; the callers pass rows of the firm).
_CLEAN_EXCLUDE = [
    "file",
    "search_vector",
    "organization",
    "client",
    "engagement",
    "uploaded_by",
    "uploaded_by_contact",
    "request_item",
    "duplicate_of",
    "parent_document",
    "restored_from",
    "reviewed_by",
]


QUARANTINE_ALERT_JOB = "documents.tasks.document_quarantine_alert_job"
SCAN_JOB = "documents.tasks.document_scan_job"


def max_upload_bytes(organization_id: int) -> int:
    return document_settings_for(organization_id).max_upload_mb * 1024 * 1024


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = " ".join(str(tag).split())[:50]
        if tag and tag.lower() not in (t.lower() for t in seen):
            seen[tag] = None
    return list(seen)


def _retention_date(document: Document) -> date | None:
    """The firm's retention date for the document; None keeps it permanently."""
    from documents.services.retention import retention_date_for

    return retention_date_for(document)


def _duplicate_of(
    document: Document, *, lineage_root_id: int | None
) -> Document | None:
    """The earliest other document of the same client with the same bytes."""
    others = Document.objects.filter(
        organization_id=document.organization_id,
        client_id=document.client_id,
        checksum=document.checksum,
    ).exclude(scan_status=ScanStatus.INFECTED)
    if lineage_root_id is not None:
        others = others.exclude(
            Q(pk=lineage_root_id) | Q(parent_document_id=lineage_root_id)
        )
    return others.order_by("created_at", "pk").first()


def _check_engagement(client: Client, engagement: Engagement | None) -> None:
    if engagement is not None and engagement.client_id != client.pk:
        raise ValidationError({"engagement": "Choose an engagement of this client."})


def _insert(document: Document, upload: CheckedUpload, write) -> Document:
    """Store the file, then run `write` (the database part, atomic); when anything
    fails the stored file is deleted again. The temporary file is always gone after.
    A file the firm's plan has no room for is refused before it is stored."""
    stored = ""
    try:
        if platform_billing_on():
            _check_plan(document, upload)
        stored = document_store(document=document, upload=upload)
        with transaction.atomic():
            write()
            if document.is_quarantined:
                document_quarantine_record(document)
            elif document.is_scan_pending:
                # Scanned by a job once the row is committed (documents.services.scan).
                enqueue_for_organization(
                    SCAN_JOB, document.organization, document_id=document.pk
                )
    except BaseException:
        document_file_delete(stored)
        raise
    finally:
        upload.close()
    if document.is_quarantined:
        raise UploadQuarantined(upload.filename, document.scan_signature)
    return document


def _check_plan(document: Document, upload: CheckedUpload) -> None:
    try:
        plan_limit_check(document.organization, STORAGE, adding=upload.size)
    except ValidationError as exc:
        raise UploadOverPlan(upload.original_filename, " ".join(exc.messages)) from exc


def stored_bytes(organization) -> int:
    """What the firm's plan counts as its storage (advisoros.tenancy.plans):
    every stored version of every document, quarantined ones included."""
    total = Document.objects.filter(organization=organization).aggregate(
        total=Sum("size")
    )["total"]
    return total or 0


def _scan_fields(upload: CheckedUpload) -> dict:
    """The scan's verdict on a new version, and what a quarantine changes: an
    infected version is never shared with the client, never read by OCR and
    never fulfils a request. A PENDING version keeps its request item and
    sharing (documents.services.scan takes them away if it is infected); until
    clean it is not served, shared (portal.selectors) or read."""
    fields = {
        "scan_status": upload.scan.status,
        "scanned_at": upload.scan.scanned_at,
        "scan_signature": upload.scan.signature[:200],
        "has_scripts": upload.has_scripts,
    }
    if upload.scan.status == ScanStatus.INFECTED:
        fields.update(
            visible_to_client=False, request_item=None, ocr_status=OcrStatus.SKIPPED
        )
    return fields


def document_quarantine_record(document: Document) -> None:
    """The audit event and the alert to the firm's owners and admins (a job,
    once the row is committed). Also run by the scan job (documents.services.scan)."""
    contact = document.uploaded_by_contact
    audit_event_record(
        action=AuditAction.DOCUMENT_QUARANTINED,
        organizations=[document.organization_id],
        actor=document.uploaded_by,
        actor_email="" if document.uploaded_by else (contact.email if contact else ""),
        target=f"{document.original_filename} (client {document.client.display_name})",
        detail={
            "document": str(document.uuid),
            "client": str(document.client.uuid),
            "signature": document.scan_signature,
            "sha256": document.checksum,
            "size": document.size,
            "source": document.source,
            "contact": str(contact.uuid) if contact else None,
        },
    )
    enqueue_for_organization(
        QUARANTINE_ALERT_JOB, document.client.organization, document_id=document.pk
    )


def document_create(
    *,
    client: Client,
    file: File,
    filename: str,
    uploaded_by: User | None = None,
    uploaded_by_contact: Contact | None = None,
    source: str = DocumentSource.STAFF,
    title: str = "",
    category: str = DocumentCategory.OTHER,
    tax_year: int | None = None,
    engagement: Engagement | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    access_level: str = AccessLevel.STANDARD,
    visible_to_client: bool = False,
    request_item: DocumentRequestItem | None = None,
    access_users: Iterable[User] = (),
) -> Document:
    """A new document (version 1) from an upload. Raises UploadRejected (nothing
    kept) or ValidationError (bad metadata, nothing kept)."""
    _check_engagement(client, engagement)
    upload = validate_upload(
        file=file, filename=filename, max_bytes=max_upload_bytes(client.organization_id)
    )
    document = Document(
        organization_id=client.organization_id,
        client=client,
        engagement=engagement,
        title=(title or _default_title(upload.filename))[:255],
        original_filename=upload.original_filename,
        size=upload.size,
        mime_type=upload.mime_type,
        checksum=upload.checksum,
        category=category,
        tax_year=tax_year,
        tags=_clean_tags(tags),
        description=description,
        uploaded_by=uploaded_by,
        uploaded_by_contact=uploaded_by_contact,
        source=source,
        request_item=request_item,
        access_level=access_level,
        visible_to_client=visible_to_client,
    )
    for name, value in _scan_fields(upload).items():
        setattr(document, name, value)
    try:
        document.full_clean(
            exclude=_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False
        )
    except ValidationError:
        upload.close()
        raise

    def write() -> None:
        document.duplicate_of = _duplicate_of(document, lineage_root_id=None)
        document.retention_until = _retention_date(document)
        document.save()
        _grant(document, access_users)
        if document.request_item is not None:
            # The item is received, waiting for staff to accept it.
            from documents.services.requests import document_request_item_attach

            document_request_item_attach(
                item=request_item, document=document, by=uploaded_by
            )
        if document.is_servable:
            enqueue_ocr(document)  # a PENDING one is read once clean

    return _insert(document, upload, write)


def _default_title(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return stem.replace("_", " ").strip() or filename


def _grant(root: Document, users: Iterable[User]) -> None:
    DocumentAccess.objects.bulk_create(
        [
            DocumentAccess(organization_id=root.organization_id, document=root, user=u)
            for u in users
        ],
        ignore_conflicts=True,
    )


def _new_version(
    *,
    document: Document,
    upload: CheckedUpload,
    uploaded_by: User | None,
    uploaded_by_contact: Contact | None,
    source: str,
    request_item: DocumentRequestItem | None,
    restored_from: Document | None = None,
) -> Document:
    root_id = document.root_id
    version = Document(
        organization_id=document.organization_id,
        client_id=document.client_id,
        original_filename=upload.original_filename,
        size=upload.size,
        mime_type=upload.mime_type,
        checksum=upload.checksum,
        uploaded_by=uploaded_by,
        uploaded_by_contact=uploaded_by_contact,
        source=source,
        request_item=request_item,
        parent_document_id=root_id,
        restored_from=restored_from,
    )
    for name, value in _scan_fields(upload).items():
        setattr(version, name, value)

    def write() -> None:
        # The root's row lock serialises new versions of one lineage: the second
        # of two simultaneous uploads waits here, then numbers after the first.
        Document.objects.select_for_update().only("pk").get(pk=root_id)
        lineage = Document.objects.filter(Q(pk=root_id) | Q(parent_document_id=root_id))
        latest = lineage.filter(is_latest_version=True).first()
        number = (lineage.aggregate(n=Max("version"))["n"] or 0) + 1
        source_row = latest or Document.objects.get(pk=root_id)
        for name in LINEAGE_FIELDS:
            setattr(version, name, getattr(source_row, name))
        version.version = number
        if version.is_quarantined:
            # Kept in the history, never the latest: the lineage stays as it was.
            version.visible_to_client = False
            version.is_latest_version = False
        elif version.is_scan_pending:
            # Not the latest until the scan job finds it clean (then it becomes
            # the latest unless a newer version has: documents.services.scan).
            version.is_latest_version = False
        elif latest is not None:
            latest.is_latest_version = False
            latest.save(update_fields=["is_latest_version", "updated_at"])
        version.duplicate_of = _duplicate_of(version, lineage_root_id=root_id)
        version.retention_until = _retention_date(version)
        version.save()
        if version.is_servable:
            enqueue_ocr(version)

    return _insert(version, upload, write)


def document_add_version(
    *,
    document: Document,
    file: File,
    filename: str,
    uploaded_by: User | None = None,
    uploaded_by_contact: Contact | None = None,
    source: str = DocumentSource.STAFF,
    request_item: DocumentRequestItem | None = None,
) -> Document:
    """A new latest version of `document`'s lineage (any version of it may be
    given). Metadata and access come from the current latest version."""
    upload = validate_upload(
        file=file,
        filename=filename,
        max_bytes=max_upload_bytes(document.organization_id),
    )
    return _new_version(
        document=document,
        upload=upload,
        uploaded_by=uploaded_by,
        uploaded_by_contact=uploaded_by_contact,
        source=source,
        request_item=request_item,
    )


def document_restore_version(*, version: Document, restored_by: User) -> Document:
    """Make an older version the latest again, as a new version with a copy of its
    file. The copy is hashed on the way: a stored file that no longer matches its
    checksum is refused rather than restored. A quarantined version is never
    restored; the copy keeps the scan verdict of the version it copies."""
    if version.is_quarantined:
        raise UploadRejected(
            f"Version {version.version} is quarantined (the virus scanner found"
            f" {version.scan_signature}): it cannot be restored."
        )
    if not version.is_servable:
        raise UploadRejected(
            f"Version {version.version} has not been checked for viruses"
            f" ({version.get_scan_status_display().lower()}): it cannot be restored."
        )
    try:
        with document_open(version) as stored:
            copy = IncomingFile.from_file(
                stored, version.original_filename, max_bytes=version.size
            )
    except FileNotFoundError as exc:
        raise UploadRejected(
            f"The file of version {version.version} is missing from storage."
        ) from exc
    if copy.sha256 != version.checksum or copy.size != version.size:
        copy.close()
        raise UploadRejected(
            f"The stored file of version {version.version} does not match its"
            " checksum; it was not restored."
        )
    upload = CheckedUpload(
        file=copy,
        original_filename=version.original_filename,
        filename=download_filename(version.original_filename, version.mime_type),
        size=copy.size,
        checksum=copy.sha256,
        mime_type=version.mime_type,
        scan=ScanVerdict(
            ScanStatus(version.scan_status), version.scan_signature, version.scanned_at
        ),
        has_scripts=version.has_scripts,
    )
    return _new_version(
        document=version,
        upload=upload,
        uploaded_by=restored_by,
        uploaded_by_contact=None,
        source=DocumentSource.STAFF,
        request_item=None,
        restored_from=version,
    )


@transaction.atomic
def document_update(
    *,
    document: Document,
    data: dict,
    access_users: Iterable[User] | None = None,
) -> Document:
    """Change a lineage's metadata (every version alike) and, when given, the
    people named on it (kept on the root). Saved row by row so the change log
    records each version's access change."""
    _check_engagement(document.client, data.get("engagement"))
    root_id = document.root_id
    versions = list(
        Document.objects.select_for_update()
        .filter(Q(pk=root_id) | Q(parent_document_id=root_id))
        .order_by("version")
    )
    changed_fields = [name for name in LINEAGE_FIELDS if name in data]
    # Two queries for the lineage, not two a version.
    from documents.services.retention import retention_policy_for

    policy = retention_policy_for(document.organization_id)
    if "tags" in data:
        data = {**data, "tags": _clean_tags(data["tags"])}
    for row in versions:
        for name in changed_fields:
            setattr(row, name, data[name])
        row.full_clean(
            exclude=_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False
        )
        retention = policy.date_for(row)
        update = [*changed_fields, "updated_at"]
        if retention != row.retention_until:
            row.retention_until = retention
            update.append("retention_until")
        row.save(update_fields=update)
    if access_users is not None:
        access_users = list(access_users)
        wanted = {u.pk for u in access_users}
        grants = DocumentAccess.objects.filter(document_id=root_id)
        grants.exclude(user_id__in=wanted).delete()
        have = set(grants.values_list("user_id", flat=True))
        root = next(v for v in versions if v.pk == root_id)
        _grant(root, [u for u in access_users if u.pk not in have])
    return next(v for v in versions if v.pk == document.pk)
