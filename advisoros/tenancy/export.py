"""A firm's whole data as one zip, streamed: every table, every file, the audit trail.

The core names no domain app (ARCHITECTURE 1), so the tables are found in the
app registry: every model with an `organization` foreign key, ordered so that a
table comes after the tables its foreign keys point to (`firm_tables`). A new
app's models join the export, and the import, by themselves.

The zip (format `FORMAT`, version `FORMAT_VERSION`)::

    manifest.json                      the firm, counts, every member's SHA-256 and size
    organization.json                  the firm's own settings
    data/<app>.<model>.json / .csv     one file per table, one row a line
    people/users.json / .csv           the members and everyone the rows name:
                                       identifying fields only (no password, no 2FA)
    people/<section>.json / .csv       what an app registers (`register_people`)
    audit/audit_events.json / .csv     the firm's security events, hash chain included
    audit/change_log.json / .csv       the firm's model change log
    files/<app>.<model>/<pk>/<field>/<name>  every stored file, every version of a document
    missing_files.txt                  files a row names that the storage did not have

A row is an object keyed by column (`client_id`), values as Django's JSON
encoder writes them; a file field holds the member name of its bytes. Each JSON
file is an array with one row a line, so a reader can take it line by line.
Nothing is held in memory: rows come from a server-side cursor
(`iterator(chunk_size=...)`), files are copied in blocks, and the zip is written
to a file (a temporary one on disk in the job) that the storage then copies.

Encrypted columns (tax ids) are written decrypted: the export is the firm's way
to take its data elsewhere (docs/decisions.md, "A firm's data out").
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import (
    AuditAction,
    AuditCheckpoint,
    AuditEvent,
    ChangeLogSeal,
    LogEntry,
)
from advisoros.audit.services import audit_event_record
from advisoros.csv_safe import csv_safe
from advisoros.tenancy.models import FirmExport, FirmSubscription, Organization
from advisoros.tenancy.tasks import job_retry

logger = logging.getLogger(__name__)

FORMAT = "advisoros-firm-export"
FORMAT_VERSION = 1
CHUNK_SIZE = 2000  # rows a server-side cursor fetches at a time
COPY_BLOCK = 1024 * 1024  # bytes of a file copied at a time
TEXT_FLUSH = 256 * 1024  # characters of a table buffered before they are compressed
MANIFEST = "manifest.json"
MISSING_MEMBER = "missing_files.txt"
ORGANIZATION_MEMBER = "organization.json"
USERS_SECTION = "users"
# The firm's own columns that are the firm's identity here, not its data.
ORGANIZATION_SKIP = (
    "id",
    "uuid",
    "slug",
    "deactivated_at",
    "deletion_scheduled_for",
    "deleted_at",
)
USER_FIELDS = ("id", "email", "name", "is_active", "date_joined", "last_login")
# Tables that are not the firm's data: the exports themselves, the audit
# trail, which has its own section (and is never re-inserted: see the import),
# with its seals and checkpoints (they vouch for the old firm's rows only), and
# the firm's subscription to AdvisorOS (the platform's contract with the firm,
# with the platform's Stripe ids: an imported firm starts its own).
_NOT_DATA = (
    FirmExport,
    FirmSubscription,
    AuditEvent,
    LogEntry,
    ChangeLogSeal,
    AuditCheckpoint,
)


# The tables ------------------------------------------------------------------------


def is_tenant_model(model: type[models.Model]) -> bool:
    try:
        org = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return False
    return bool(org.concrete and org.is_relation and org.related_model is Organization)


def _exportable(model: type[models.Model]) -> bool:
    meta = model._meta
    return (
        is_tenant_model(model)
        and meta.managed
        and not meta.proxy
        and model not in _NOT_DATA
        # A table with a composite key (documents' search dictionary), or one
        # that says it is `kept_by_database` (billing's summaries), is kept by
        # database triggers from its source rows: the import rebuilds it.
        and not isinstance(meta.pk, models.CompositePrimaryKey)
        and not getattr(model, "kept_by_database", False)
    )


def firm_tables() -> list[type[models.Model]]:
    """Every tenant model whose rows are the firm's data, parents first.

    A foreign key to the same table, or one that would close a cycle, is left
    for the import's second pass (`deferred_fks`); such a key must be nullable.
    """
    candidates = sorted(
        (m for m in apps.get_models() if _exportable(m)),
        key=lambda m: m._meta.label_lower,
    )
    ordered: list[type[models.Model]] = []
    remaining = list(candidates)
    while remaining:
        placed = set(ordered)
        ready = [
            m
            for m in remaining
            if all(
                target in placed or target is m or target not in candidates
                for target in _fk_targets(m)
            )
        ]
        if not ready:  # a cycle: place the first one, its keys are deferred
            ready = [remaining[0]]
        for model in ready:
            ordered.append(model)
            remaining.remove(model)
    return ordered


def _fk_targets(model: type[models.Model]) -> list[type[models.Model]]:
    return [f.related_model for f in model._meta.concrete_fields if f.is_relation]


def exported_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns written for `model`: all but the firm and the search vectors
    (the database computes those from the other columns)."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.name != "organization" and not isinstance(f, SearchVectorField)
    ]


def file_fields(model: type[models.Model]) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def user_fks(model: type[models.Model]) -> list[models.ForeignKey]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is User
    ]


def table_label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def file_member(label: str, pk: Any, field_name: str, stored_name: str) -> str:
    """Where a stored file goes in the zip: its row and field, then the last part
    of its stored name (an `upload_to` that keeps an extension finds it again)."""
    return f"files/{label}/{pk}/{field_name}/{PurePosixPath(stored_name).name}"


# People sections other apps add ----------------------------------------------------


@dataclass(frozen=True)
class PeopleSection:
    """Global accounts an upper app keeps for a firm's people (portal sign-ins):
    `rows(organization)` yields plain dicts with identifying fields only."""

    name: str
    fields: tuple[str, ...]
    rows: Callable[[Organization], Iterable[dict]]


_people_sections: dict[str, PeopleSection] = {}


def register_people(section: PeopleSection) -> None:
    """Called from an app's `ready()`: the core never names the app."""
    _people_sections[section.name] = section


# Writing the zip --------------------------------------------------------------------


class _Member:
    """One zip member being written: counts its bytes and hashes them on the way."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.name = name
        self.handle = zf.open(name, "w", force_zip64=True)
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._text: list[str] = []
        self._text_len = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self.handle.write(data)

    def write_text(self, text: str) -> None:
        self._text.append(text)
        self._text_len += len(text)
        if self._text_len >= TEXT_FLUSH:
            self._flush_text()

    def _flush_text(self) -> None:
        if self._text:
            self.write("".join(self._text).encode())
            self._text, self._text_len = [], 0

    def close(self) -> dict:
        self._flush_text()
        self.handle.close()
        return {"name": self.name, "size": self.size, "sha256": self.sha256.hexdigest()}


class _CsvRow:
    """csv.writer's target: one row's text at a time."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


class ExportJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, with datetimes to the microsecond: Django's keeps
    milliseconds only, so a row read back from an export would not be the same
    instant (and a second export of it would differ from the first)."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


_ENCODER = ExportJSONEncoder()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return csv_safe(json.dumps(value, cls=ExportJSONEncoder))
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, int | float):
        return str(value)
    return str(_ENCODER.default(value))  # dates, decimals, uuids: as in the JSON


@dataclass
class ExportWriter:
    zf: zipfile.ZipFile
    members: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Stored files the storage did not have: their member names go to a file on
    # disk (a firm may have many), then into the zip as MISSING_MEMBER.
    missing_count: int = 0
    _missing: IO[str] | None = None

    def table(self, path: str, columns: list[str], rows: Callable[[], Iterator]):
        """`path`.json and `path`.csv from `rows()` (called once for each), each
        row a tuple in `columns` order. Returns the number of rows."""
        json_member = _Member(self.zf, f"{path}.json")
        json_member.write_text("[\n")
        count = 0
        for row in rows():
            if count:
                json_member.write_text(",\n")
            json_member.write_text(
                json.dumps(dict(zip(columns, row, strict=True)), cls=ExportJSONEncoder)
            )
            count += 1
        json_member.write_text("\n]\n" if count else "]\n")
        self.members.append(json_member.close())

        csv_member = _Member(self.zf, f"{path}.csv")
        line = _CsvRow()
        writer = csv.writer(line, lineterminator="\r\n")
        writer.writerow(columns)
        csv_member.write_text(line.text)
        for row in rows():
            writer.writerow([_csv_cell(v) for v in row])
            csv_member.write_text(line.text)
        self.members.append(csv_member.close())
        return count

    def stored_file(self, member: str, storage, name: str) -> None:
        """Copy a stored file into the zip in blocks; a file the storage does
        not have is listed in MISSING_MEMBER instead."""
        try:
            source = storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            if self._missing is None:
                self._missing = tempfile.TemporaryFile(  # noqa: SIM115 (missing_list closes it)
                    "w+", encoding="utf-8", dir=settings.FILE_UPLOAD_TEMP_DIR
                )
            self._missing.write(member + "\n")
            self.missing_count += 1
            return
        with source:
            out = _Member(self.zf, member)
            while block := source.read(COPY_BLOCK):
                out.write(block)
            self.members.append(out.close())

    def missing_list(self) -> None:
        """MISSING_MEMBER, copied from the file on disk."""
        if self._missing is None:
            return
        with self._missing:
            self._missing.seek(0)
            out = _Member(self.zf, MISSING_MEMBER)
            while block := self._missing.read(COPY_BLOCK):
                out.write(block.encode())
            self.members.append(out.close())

    def document(self, member: str, value: Any) -> None:
        out = _Member(self.zf, member)
        out.write(json.dumps(value, cls=ExportJSONEncoder, indent=2).encode())
        self.members.append(out.close())


def _rows_of(queryset: models.QuerySet, attnames: list[str], convert) -> Callable:
    def rows() -> Iterator[tuple]:
        for row in queryset.values_list(*attnames).iterator(chunk_size=CHUNK_SIZE):
            yield convert(row)

    return rows


def _table_rows(model, organization, fields, content_types) -> Callable:
    label = table_label(model)
    attnames = [f.attname for f in fields]
    files = {i for i, f in enumerate(fields) if isinstance(f, models.FileField)}
    ctypes = {
        i
        for i, f in enumerate(fields)
        if f.is_relation and f.related_model is ContentType
    }
    pk_index = attnames.index(model._meta.pk.attname)

    def convert(row: tuple) -> tuple:
        if not files and not ctypes:
            return row
        values = list(row)
        for i in files:
            if values[i]:
                values[i] = file_member(label, row[pk_index], fields[i].name, values[i])
        for i in ctypes:
            if values[i] is not None:
                values[i] = content_types(values[i])
        return tuple(values)

    queryset = model._default_manager.filter(organization=organization).order_by("pk")
    return _rows_of(queryset, attnames, convert)


def _content_type_labels() -> Callable[[int], str]:
    cache: dict[int, str] = {}

    def label(pk: int) -> str:
        if pk not in cache:
            ct = ContentType.objects.get_for_id(pk)
            cache[pk] = f"{ct.app_label}.{ct.model}"
        return cache[pk]

    return label


def _referenced_user_ids(organization: Organization, tables) -> set[int]:
    """Everyone the firm's rows name (members, authors, assignees, actors): one
    DISTINCT query per user column, so the set is as big as the people, not the rows."""
    ids: set[int] = set()
    for model in [*tables, AuditEvent, LogEntry]:
        for fk in user_fks(model):
            ids.update(
                model._default_manager.filter(organization=organization)
                .exclude(**{fk.attname: None})
                .order_by()
                .values_list(fk.attname, flat=True)
                .distinct()
            )
    return ids


def _organization_document(organization: Organization) -> dict:
    values = {}
    for f in Organization._meta.concrete_fields:
        if f.attname in ORGANIZATION_SKIP:
            continue
        value = f.value_from_object(organization)
        if isinstance(f, models.FileField):
            value = (
                file_member("tenancy.organization", organization.pk, f.name, value.name)
                if value
                else ""
            )
        values[f.attname] = value
    return values


def firm_export_write(*, organization: Organization, out: IO[bytes]) -> dict:
    """Write `organization`'s export as a zip into the binary file `out`; returns
    the manifest. Run it in the firm's context (`tenant_context`)."""
    tables = firm_tables()
    content_types = _content_type_labels()
    with zipfile.ZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
    ) as zf:
        writer = ExportWriter(zf)
        table_entries = []

        writer.document(ORGANIZATION_MEMBER, _organization_document(organization))
        if organization.logo:
            writer.stored_file(
                file_member(
                    "tenancy.organization",
                    organization.pk,
                    "logo",
                    organization.logo.name,
                ),
                organization.logo.storage,
                organization.logo.name,
            )

        for model in tables:
            label = table_label(model)
            fields = exported_fields(model)
            count = writer.table(
                f"data/{label}",
                [f.attname for f in fields],
                _table_rows(model, organization, fields, content_types),
            )
            writer.counts[label] = count
            table_entries.append(
                {
                    "model": label,
                    "rows": count,
                    "columns": [f.attname for f in fields],
                    "files": [f.name for f in file_fields(model)],
                }
            )
            for file_field in file_fields(model):
                stored = (
                    model._default_manager.filter(organization=organization)
                    .exclude(**{file_field.attname: ""})
                    .order_by("pk")
                    .values_list("pk", file_field.attname)
                    .iterator(chunk_size=CHUNK_SIZE)
                )
                for pk, name in stored:
                    writer.stored_file(
                        file_member(label, pk, file_field.name, name),
                        file_field.storage,
                        name,
                    )

        user_ids = sorted(_referenced_user_ids(organization, tables))
        writer.counts[f"people.{USERS_SECTION}"] = writer.table(
            f"people/{USERS_SECTION}",
            list(USER_FIELDS),
            _rows_of(
                User.objects.filter(pk__in=user_ids).order_by("pk"),
                list(USER_FIELDS),
                lambda row: row,
            ),
        )
        for section in _people_sections.values():
            columns = list(section.fields)
            writer.counts[f"people.{section.name}"] = writer.table(
                f"people/{section.name}",
                columns,
                lambda section=section, columns=columns: (
                    tuple(row[c] for c in columns) for row in section.rows(organization)
                ),
            )

        for name, model in (("audit_events", AuditEvent), ("change_log", LogEntry)):
            fields = [
                f for f in model._meta.concrete_fields if f.name != "organization"
            ]
            writer.counts[f"audit.{name}"] = writer.table(
                f"audit/{name}",
                [f.attname for f in fields],
                _table_rows(model, organization, fields, content_types),
            )

        writer.missing_list()
        if writer.missing_count:
            logger.warning(
                "Export of firm %s: %s stored files are missing (listed in the "
                "manifest's missing_files)",
                organization.pk,
                writer.missing_count,
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "firm": {
                "uuid": str(organization.uuid),
                "slug": organization.slug,
                "name": organization.name,
            },
            "created_at": timezone.now().isoformat(),
            "tax_ids": "plaintext",
            "tables": table_entries,
            "counts": writer.counts,
            "members": writer.members,
            "missing_files": writer.missing_count,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
    return manifest


def export_snapshot():
    """One consistent view of every table: a repeatable-read, read-only
    transaction when none is open yet (in a job or a command; a test's own
    transaction is already one snapshot)."""
    if connection.in_atomic_block:
        return transaction.atomic()

    class _Snapshot:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )

        def __exit__(self, *exc):
            return self.atomic.__exit__(*exc)

    return _Snapshot()


# The stored export (the job and the command) ---------------------------------------


def _sha256_of(handle: IO[bytes]) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while block := handle.read(COPY_BLOCK):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def firm_export_start(*, organization: Organization, by: User | None) -> FirmExport:
    """Record an export and queue the job that builds it (on commit)."""
    from advisoros.tenancy.tasks import enqueue_for_organization

    with transaction.atomic():
        export = FirmExport.objects.create(organization=organization, created_by=by)
        enqueue_for_organization(
            "advisoros.tenancy.export.firm_export_build",
            organization,
            export_id=export.pk,
        )
    return export


@job_retry(attempts=2)
def firm_export_build(*, organization: Organization, export_id: int) -> str:
    """Build the firm's full export"""
    export = FirmExport.objects.select_related("created_by").get(pk=export_id)
    if export.status in (FirmExport.Status.READY, FirmExport.Status.EXPIRED):
        return "skipped: already built"
    export.status = FirmExport.Status.RUNNING
    export.save(update_fields=["status", "updated_at"])
    try:
        firm_export_store(organization=organization, export=export)
    except Exception as exc:
        export.status = FirmExport.Status.FAILED
        export.error = f"{type(exc).__name__}: {exc}"[:2000]
        export.save(update_fields=["status", "error", "updated_at"])
        raise
    return f"{export.size} bytes"


def firm_export_store(*, organization: Organization, export: FirmExport) -> FirmExport:
    """Write the zip to a temporary file on disk, then into the file store."""
    with tempfile.TemporaryFile(
        prefix="firm-export-", dir=settings.FILE_UPLOAD_TEMP_DIR
    ) as handle:
        with export_snapshot():
            manifest = firm_export_write(organization=organization, out=handle)
        handle.flush()
        size = handle.seek(0, io.SEEK_END)
        sha256 = _sha256_of(handle)
        file_field = FirmExport._meta.get_field("file")
        name = file_field.storage.save(
            file_field.generate_filename(export, "export.zip"), File(handle)
        )
    export.file.name = name
    export.size = size
    export.sha256 = sha256
    export.counts = manifest["counts"]
    export.status = FirmExport.Status.READY
    export.error = ""
    export.finished_at = timezone.now()
    export.save()
    audit_event_record(
        action=AuditAction.FIRM_EXPORTED,
        organizations=[organization],
        actor=export.created_by,
        target=str(export.uuid),
        detail={"size": size, "sha256": sha256, "counts": manifest["counts"]},
    )
    return export


# Old exports ------------------------------------------------------------------------

EXPORT_KEEP_DAYS = 7  # a built zip (tax ids in plain text) is deleted after this


def firm_exports_expire_run() -> int:
    """Queue, for each firm with a built export older than `EXPORT_KEEP_DAYS`,
    the job that deletes its file."""
    from advisoros.tenancy.db import platform_bypass
    from advisoros.tenancy.tasks import enqueue_for_organizations

    cutoff = timezone.now() - timedelta(days=EXPORT_KEEP_DAYS)
    with platform_bypass():  # PLATFORM BYPASS: which firms have old exports
        firms = set(
            FirmExport.objects.filter(
                status=FirmExport.Status.READY, finished_at__lt=cutoff
            ).values_list("organization_id", flat=True)
        )
    return enqueue_for_organizations(
        "advisoros.tenancy.export.firm_exports_expire", firms, include_deactivated=True
    )


def firm_exports_expire(*, organization: Organization) -> int:
    """Delete the firm's export files older than the keeping time"""
    cutoff = timezone.now() - timedelta(days=EXPORT_KEEP_DAYS)
    expired = 0
    for export in FirmExport.objects.filter(
        organization=organization,
        status=FirmExport.Status.READY,
        finished_at__lt=cutoff,
    ):
        if export.file:
            export.file.storage.delete(export.file.name)
        export.file = ""
        export.status = FirmExport.Status.EXPIRED
        export.save(update_fields=["file", "status", "updated_at"])
        expired += 1
    return expired
