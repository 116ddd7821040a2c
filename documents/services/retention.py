"""Retention: how long a firm keeps each document, legal holds, the nightly archive
and the purge that leaves tombstones.

Counting. A document is kept for the firm's years for its category
(`DocumentSettings.retention_years_by_category`), else the firm's default
(`Organization.document_retention_years`, 7 unless changed). With a tax year the
years count from the end of that tax year (a 2024 W-2 kept 7 years: until
2031-12-31); without one, from the upload date in the firm's time zone (a Feb 29
upload ends on Feb 28). A category set to 0 years is kept permanently: no
retention date. Every version carries its own date; the latest version's date is
the lineage's.

Archive. Past its date (the day after `retention_until`) the latest version of a
lineage not on legal hold is archived by the nightly sweep: still there and
still readable, listed on the retention page as awaiting purge.

Purge. Only an owner or admin, only lineages past retention and on no legal hold,
always whole lineages: every version's row goes, a `DocumentTombstone` per version
keeps its metadata and checksum, and one `DOCUMENT_PURGED` audit event per document
records who, why and the checksums. The files are deleted from storage only after
the transaction commits, so a purge that fails midway (or rolls back) loses
nothing; a file whose deletion fails after the commit is logged for an operator
(its row and tombstone already say it was purged).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import chain

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.http import HttpRequest
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership, Organization, Role
from advisoros.tenancy.tasks import enqueue_for_organization
from documents.models import (
    Document,
    DocumentCategory,
    DocumentSettings,
    DocumentTombstone,
)
from documents.services.settings import document_settings_for

logger = logging.getLogger(__name__)

KEEP_PERMANENTLY = 0
MAX_PURGE = 500


@dataclass(frozen=True)
class RetentionPolicy:
    default_years: int
    years_by_category: dict[str, int] = field(default_factory=dict)
    timezone: str = "UTC"

    def years_for(self, category: str) -> int:
        return self.years_by_category.get(category, self.default_years)

    def date_for(self, document: Document) -> date | None:
        years = self.years_for(document.category)
        if years == KEEP_PERMANENTLY:
            return None
        if document.tax_year:
            return date(document.tax_year + years, 12, 31)
        uploaded = document.created_at or timezone.now()
        return _add_years(
            timezone.localdate(uploaded, zoneinfo.ZoneInfo(self.timezone)), years
        )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29 into a common year: as PostgreSQL does
        return day.replace(year=day.year + years, day=28)


def retention_policy_for(organization: Organization | int) -> RetentionPolicy:
    """The firm's policy (two queries); reuse it when dating many documents."""
    org_id = organization if isinstance(organization, int) else organization.pk
    org = Organization.objects.only("document_retention_years", "timezone").get(
        pk=org_id
    )
    overrides = document_settings_for(org_id).retention_years_by_category or {}
    return RetentionPolicy(
        default_years=org.document_retention_years,
        years_by_category={
            category: int(years)
            for category, years in overrides.items()
            if category in DocumentCategory.values
        },
        timezone=org.timezone,
    )


def retention_date_for(document: Document) -> date | None:
    """The date until which the firm keeps this document version (None: permanently).

    Called by the upload service for each new version; see the module docstring
    for the counting."""
    return retention_policy_for(document.organization_id).date_for(document)


@transaction.atomic
def document_retention_refresh(*, document: Document) -> Document:
    """Recompute the retention date of every version of the document's lineage
    after its category or tax year changed. A lineage moved back inside its
    retention period is no longer archived."""
    policy = retention_policy_for(document.organization_id)
    today = firm_today(Organization.objects.get(pk=document.organization_id))
    root_id = document.root_id
    for row in Document.objects.select_for_update().filter(
        Q(pk=root_id) | Q(parent_document_id=root_id),
        organization_id=document.organization_id,
    ):
        until = policy.date_for(row)
        fields = []
        if until != row.retention_until:
            row.retention_until = until
            fields.append("retention_until")
        if row.archived_at is not None and (until is None or until >= today):
            row.archived_at = None
            fields.append("archived_at")
        if fields:
            row.save(update_fields=[*fields, "updated_at"])
        if row.pk == document.pk:
            document.retention_until = row.retention_until
            document.archived_at = row.archived_at
    return document


def documents_retention_recompute(*, organization: Organization) -> int:
    """Bring every retention date of the firm in line with its policy, in one
    UPDATE (after a policy change, and before each nightly sweep). Returns the
    rows changed. Runs in the firm's context; the organization filter is explicit
    too."""
    policy = retention_policy_for(organization)
    pairs = sorted(policy.years_by_category.items())
    if pairs:
        years_sql = (
            "(CASE category "
            + " ".join("WHEN %s THEN %s" for _ in pairs)
            + " ELSE %s END)"
        )
    else:
        years_sql = "(%s)"
    years = [*chain.from_iterable(pairs), policy.default_years]
    # The same rule as RetentionPolicy.date_for, in SQL (the tests compare both).
    new_sql = (
        f"CASE WHEN {years_sql} = 0 THEN NULL"
        f" WHEN tax_year IS NOT NULL THEN make_date(tax_year + {years_sql}, 12, 31)"
        " ELSE ((created_at AT TIME ZONE %s)::date"
        f" + make_interval(years => {years_sql}))::date END"
    )
    new_params = [*years, *years, policy.timezone, *years]
    with connection.cursor() as cursor:
        # Only placeholders are interpolated into the statement.
        cursor.execute(
            f"UPDATE documents_document SET retention_until = {new_sql}"  # noqa: S608
            f" WHERE organization_id = %s AND retention_until IS DISTINCT FROM"
            f" {new_sql}",
            [*new_params, organization.pk, *new_params],
        )
        return cursor.rowcount


@transaction.atomic
def document_settings_update(
    *,
    settings: DocumentSettings,
    retention_years_by_category: dict[str, int],
    by: User | None = None,
) -> DocumentSettings:
    """Save the firm's document settings (the change log records each change).
    A new retention policy re-dates the firm's documents in the background (the
    firm's sweep, queued on commit), so the page answers at once in a big firm."""
    overrides = {
        category: int(years)
        for category, years in retention_years_by_category.items()
        if category in DocumentCategory.values
    }
    stored = (
        DocumentSettings.objects.filter(pk=settings.pk)
        .values_list("retention_years_by_category", flat=True)
        .first()
    )
    settings.retention_years_by_category = overrides
    settings.full_clean(exclude=["organization"], validate_unique=False)
    settings.save()
    if (stored or {}) != overrides:
        # By path: this module is below documents.tasks_scheduled, which imports it.
        enqueue_for_organization(
            "documents.tasks_scheduled.documents_retention_job", settings.organization
        )
    return settings


# Legal hold -----------------------------------------------------------------------


def _lineage(document: Document):
    root_id = document.root_id
    return Document.objects.filter(
        Q(pk=root_id) | Q(parent_document_id=root_id),
        organization_id=document.organization_id,
    )


@transaction.atomic
def document_legal_hold_set(
    *,
    document: Document,
    on: bool,
    reason: str,
    by: User | None,
    request: HttpRequest | None = None,
) -> Document:
    """Put the whole lineage (every version) on legal hold, or release it. A held
    document cannot be purged, whatever its retention date. Recorded in the audit
    trail (DOCUMENT_LEGAL_HOLD) with the reason."""
    reason = (reason or "").strip()[:200]
    if on and not reason:
        raise ValidationError(
            {"reason": "Say why the document is held (a case, an audit, a claim)."}
        )
    versions = list(_lineage(document).select_for_update().order_by("version"))
    if not versions:
        raise ValidationError("This document no longer exists.")
    latest = next((v for v in versions if v.is_latest_version), versions[-1])
    if all(v.legal_hold == on for v in versions) and (
        not on or all(v.legal_hold_reason == reason for v in versions)
    ):
        document.legal_hold = on
        return document  # nothing changes: nothing to record
    _lineage(document).update(
        legal_hold=on, legal_hold_reason=reason if on else "", updated_at=timezone.now()
    )
    audit_event_record(
        action=AuditAction.DOCUMENT_LEGAL_HOLD,
        organizations=[document.organization_id],
        actor=by,
        request=request,
        target=_target(latest),
        detail={
            "document": str(latest.uuid),
            "on": on,
            "reason": reason,
            "versions": len(versions),
        },
    )
    document.legal_hold = on
    document.legal_hold_reason = reason if on else ""
    return document


def _target(document: Document) -> str:
    return f"{document.title} ({document.original_filename})"[:254]


# The nightly sweep ----------------------------------------------------------------


def documents_retention_sweep_firm(
    *, organization: Organization, now: datetime | None = None
) -> int:
    """One firm's nightly pass (in its context): dates brought in line with the
    policy, lineages back inside their period unarchived, and the latest versions
    past retention and not on hold archived. Records one DOCUMENTS_ARCHIVED event
    with the count when something was archived. Returns the count."""
    now = now or timezone.now()
    today = firm_today(organization)
    with transaction.atomic():
        documents_retention_recompute(organization=organization)
        Document.objects.filter(
            Q(retention_until__isnull=True) | Q(retention_until__gte=today),
            organization=organization,
            archived_at__isnull=False,
        ).update(archived_at=None, updated_at=now)
        archived = Document.objects.filter(
            organization=organization,
            is_latest_version=True,
            legal_hold=False,
            archived_at__isnull=True,
            retention_until__lt=today,
        ).update(archived_at=now, updated_at=now)
        if archived:
            audit_event_record(
                action=AuditAction.DOCUMENTS_ARCHIVED,
                organizations=[organization],
                target=f"{archived} document{'' if archived == 1 else 's'}",
                detail={"count": archived, "past_retention_on": today.isoformat()},
            )
    return archived


# Purge ----------------------------------------------------------------------------


def _check_purger(organization_id: int, by: User | None) -> None:
    if by is None or not (
        Membership.objects.filter(
            organization_id=organization_id,
            user=by,
            is_active=True,
            role__in=[Role.OWNER, Role.ADMIN],
        ).exists()
    ):
        raise PermissionDenied("Only an owner or admin of the firm may purge.")


def document_purge(
    *,
    documents: Iterable[Document],
    by: User,
    reason: str,
    request: HttpRequest | None = None,
) -> list[DocumentTombstone]:
    """Purge whole lineages (all or none of them). See the module docstring."""
    documents = list(documents)
    reason = (reason or "").strip()[:200]
    if not documents:
        raise ValidationError("Choose the documents to purge.")
    if not reason:
        raise ValidationError({"reason": "Say why these documents are purged."})
    if len(documents) > MAX_PURGE:
        raise ValidationError(f"Purge at most {MAX_PURGE} documents at a time.")
    org_ids = {d.organization_id for d in documents}
    if len(org_ids) != 1:
        raise ValidationError("Purge one firm's documents at a time.")
    org_id = org_ids.pop()
    _check_purger(org_id, by)
    organization = Organization.objects.get(pk=org_id)
    today = firm_today(organization)
    root_ids = {d.root_id for d in documents}
    with transaction.atomic():
        # Locked: a legal hold set meanwhile waits for us, or we wait for it and
        # see it.
        versions = list(
            Document.objects.select_for_update(of=("self",))
            .filter(
                Q(pk__in=root_ids) | Q(parent_document_id__in=root_ids),
                organization_id=org_id,
            )
            .select_related("client")
            .order_by("id")
        )
        lineages: dict[int, list[Document]] = defaultdict(list)
        for version in versions:
            lineages[version.root_id].append(version)
        problems = _purge_problems(lineages, root_ids, today)
        if problems:
            raise ValidationError(problems)
        tombstones = DocumentTombstone.objects.bulk_create(
            _tombstone(version, by, reason) for version in versions
        )
        for rows in lineages.values():
            latest = next(v for v in rows if v.is_latest_version)
            audit_event_record(
                action=AuditAction.DOCUMENT_PURGED,
                organizations=[org_id],
                actor=by,
                request=request,
                target=_target(latest),
                detail={
                    "document": str(latest.uuid),
                    "client": latest.client.display_name,
                    "reason": reason,
                    "checksum": latest.checksum,
                    "versions": [
                        {
                            "version": v.version,
                            "uuid": str(v.uuid),
                            "checksum": v.checksum,
                        }
                        for v in sorted(rows, key=lambda v: v.version)
                    ],
                    "retention_until": (
                        latest.retention_until.isoformat()
                        if latest.retention_until
                        else None
                    ),
                },
            )
        try:
            Document.objects.filter(
                organization_id=org_id, pk__in=[v.pk for v in versions]
            ).delete()
        except (ProtectedError, RestrictedError) as exc:
            raise ValidationError(
                "These documents are still used elsewhere and cannot be purged: "
                + ", ".join(sorted({str(o) for o in exc.args[1]})[:5])
            ) from exc
        transaction.on_commit(partial(_delete_files, organization, versions))
    return tombstones


def _purge_problems(
    lineages: dict[int, list[Document]], root_ids: set[int], today: date
) -> list[str]:
    problems = []
    if set(lineages) != root_ids:
        problems.append("Some of the chosen documents no longer exist.")
    for rows in lineages.values():
        latest = next((v for v in rows if v.is_latest_version), rows[-1])
        if any(v.legal_hold for v in rows):
            problems.append(f"“{latest.title}” is on legal hold.")
        elif latest.retention_until is None:
            problems.append(f"“{latest.title}” is kept permanently.")
        elif latest.retention_until >= today:
            problems.append(
                f"“{latest.title}” is kept until {latest.retention_until:%b %d, %Y}."
            )
    return problems


def _tombstone(version: Document, by: User, reason: str) -> DocumentTombstone:
    return DocumentTombstone(
        organization_id=version.organization_id,
        document_uuid=version.uuid,
        client=version.client,
        client_name=version.client.display_name[:200],
        title=version.title,
        original_filename=version.original_filename,
        category=version.category,
        tax_year=version.tax_year,
        version=version.version,
        size=version.size,
        checksum=version.checksum,
        uploaded_at=version.created_at,
        retention_until=version.retention_until,
        purged_by=by,
        purged_by_email=by.email,
        reason=reason,
    )


def _delete_files(organization: Organization, versions: list[Document]) -> None:
    """After the commit: delete the purged versions' files through the storage API
    (local folder or S3), keeping any file another document still points at."""
    names = {v.file.name for v in versions if v.file}
    with tenant_context(organization):
        still_used = set(
            Document.objects.filter(
                organization=organization, file__in=names
            ).values_list("file", flat=True)
        )
    for version in versions:
        name = version.file.name
        if not name or name in still_used:
            continue
        try:
            version.file.delete(save=False)
        except Exception:
            logger.exception(
                "Purged document %s: its file %s is left in storage",
                version.uuid,
                name,
            )
