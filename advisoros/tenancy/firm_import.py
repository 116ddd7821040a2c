"""An export (advisoros.tenancy.export) restored into an empty firm.

In order, and all or nothing:

1. `export_verify`: the manifest's format, then every member's size and SHA-256
   against the manifest, and no member it does not list; every table and column
   must be known here. A zip that fails is refused (`ImportRefused`) before
   anything is written.
2. In one transaction, in the new firm's context: people (a user is matched by
   email, or created inactive with no password: they set one through a password
   reset), the firm's own settings, then each table in the manifest's order
   (parents first) with `bulk_create`. Every primary key is new; every foreign
   key inside the firm is mapped old -> new; keys to the same table (a
   document's versions) are set in a second pass. Public ids (uuids) are new
   too, as the old ones still exist in the source firm, and other globally
   unique values (the hashes of portal link tokens) are replaced by random
   ones, so an old emailed link never opens the new firm.
3. Files are re-stored under the new rows' paths. Storage is outside the
   transaction: if anything fails, every file written so far is deleted.

The audit trail is not put back into the new firm's hash chain (its events
happened to another firm; re-inserting them would forge a chain). It is kept
whole, as the export's `audit/` members in a zip in the file store, named in
the `firm_imported` audit event with its checksum.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import models, transaction

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.export import (
    COPY_BLOCK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ORGANIZATION_MEMBER,
    USERS_SECTION,
    exported_fields,
    firm_tables,
    is_tenant_model,
)
from advisoros.tenancy.models import Organization

BATCH = 500


class ImportRefused(Exception):
    """The zip is not an intact export this installation can read: nothing was written."""


# 1. Verify ------------------------------------------------------------------------


def export_verify(zf: zipfile.ZipFile) -> dict:
    """The manifest, once every member has been read and matched its checksum."""
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError as exc:
        raise ImportRefused("The zip has no manifest.json: not a firm export.") from exc
    except ValueError as exc:
        raise ImportRefused("The manifest is not valid JSON.") from exc
    if manifest.get("format") != FORMAT:
        raise ImportRefused("The manifest does not describe a firm export.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ImportRefused(
            f"Export format version {manifest.get('format_version')} cannot be read "
            f"here (this installation reads version {FORMAT_VERSION})."
        )
    listed = {m["name"]: m for m in manifest.get("members", [])}
    present = set(zf.namelist()) - {MANIFEST}
    if unlisted := sorted(present - listed.keys()):
        raise ImportRefused(
            f"The zip holds files the manifest does not list: {unlisted[:5]}"
        )
    if absent := sorted(listed.keys() - present):
        raise ImportRefused(f"Files listed in the manifest are missing: {absent[:5]}")
    for name, entry in sorted(listed.items()):
        digest, size = hashlib.sha256(), 0
        try:
            with zf.open(name) as member:
                while block := member.read(COPY_BLOCK):
                    digest.update(block)
                    size += len(block)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportRefused(f"{name} cannot be read: {exc}") from exc
        if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise ImportRefused(
                f"{name} does not match its checksum in the manifest: the export "
                "was changed or damaged. Nothing was imported."
            )
    known = {m._meta.label_lower for m in firm_tables()}
    for table in manifest.get("tables", []):
        if table["model"] not in known:
            raise ImportRefused(f"This installation has no table {table['model']}.")
        model = apps.get_model(table["model"])
        columns = {f.attname for f in exported_fields(model)}
        if unknown := sorted(set(table["columns"]) - columns):
            raise ImportRefused(f"{table['model']} has unknown columns {unknown}.")
    return manifest


def _json_rows(zf: zipfile.ZipFile, name: str) -> Iterator[dict]:
    """The rows of a table member, one a line (the export writes them so)."""
    with zf.open(name) as member:
        for raw in member:
            line = raw.strip().rstrip(b",")
            if line and line not in (b"[", b"]"):
                yield json.loads(line)


def firm_is_empty(organization: Organization) -> bool:
    with tenant_context(organization):
        return not any(
            model._default_manager.filter(organization=organization).exists()
            for model in apps.get_models()
            if is_tenant_model(model) and model._meta.managed
        )


# 2. Restore -----------------------------------------------------------------------


class _Importer:
    def __init__(self, zf: zipfile.ZipFile, manifest: dict, organization: Organization):
        self.zf = zf
        self.manifest = manifest
        self.organization = organization
        self.present = set(zf.namelist())
        self.written: list[tuple[Any, str]] = []  # (storage, name) to undo
        self.users: dict[int, int] = {}
        self.keys: dict[str, dict[Any, Any]] = {}  # model label -> old pk -> new pk
        self.counts: dict[str, int] = {}

    # People

    def people(self) -> None:
        for row in _json_rows(self.zf, f"people/{USERS_SECTION}.json"):
            user = User.objects.filter(email__iexact=row["email"]).first()
            if user is None:
                user = User(email=row["email"], name=row["name"], is_active=False)
                user.set_unusable_password()
                user.save()
            self.users[row["id"]] = user.pk

    # The firm's own settings

    def organization_fields(self) -> None:
        values = json.loads(self.zf.read(ORGANIZATION_MEMBER))
        org = self.organization
        for f in Organization._meta.concrete_fields:
            if f.attname not in values:
                continue
            value = values[f.attname]
            if isinstance(f, models.FileField):
                if value:
                    self.store_file(org, f, value)
                continue
            setattr(org, f.attname, f.to_python(value))
        org.save()

    # Tables

    def table(self, entry: dict) -> None:
        model = apps.get_model(entry["model"])
        label = model._meta.label_lower
        fields = {f.attname: f for f in exported_fields(model)}
        pk_name = model._meta.pk.attname
        mapping = self.keys.setdefault(label, {})
        batch: list[tuple[Any, models.Model]] = []
        for row in _json_rows(self.zf, f"data/{label}.json"):
            batch.append((row[pk_name], self.instance(model, fields, row, label)))
            if len(batch) >= BATCH:
                self.insert(model, batch, mapping)
                batch = []
        self.insert(model, batch, mapping)
        self.counts[label] = len(mapping)

    def instance(self, model, fields, row: dict, label: str) -> models.Model:
        obj = model(organization_id=self.organization.pk)
        files = []
        for attname, value in row.items():
            f = fields[attname]
            if f.primary_key or f.generated:
                continue
            if f.is_relation:
                value = self.foreign_key(f, value, label)
            elif isinstance(f, models.FileField):
                files.append((f, value))
                continue
            elif f.unique and isinstance(f, models.UUIDField):
                value = uuid.uuid4()
            elif f.unique:
                # A globally unique secret (a link token's hash): a fresh value
                # no one holds the token for.
                value = secrets.token_hex(f.max_length or 32)[: f.max_length]
            else:
                value = f.to_python(value)
            setattr(obj, attname, value)
        for f, value in files:  # after the row's uuid, which the paths use
            if value:
                self.store_file(obj, f, value)
            else:
                setattr(obj, f.attname, "")
        return obj

    def foreign_key(self, f: models.ForeignKey, value, label: str):
        if value is None:
            return None
        target = f.related_model
        if target is User:
            return self.users[value]
        if target is Organization:
            return self.organization.pk
        if target is ContentType:
            return ContentType.objects.get_by_natural_key(*value.split(".", 1)).pk
        target_label = target._meta.label_lower
        if target_label == label or target_label not in self.keys:
            return None  # set in the second pass, once every row has its key
        try:
            return self.keys[target_label][value]
        except KeyError:
            raise ImportRefused(
                f"A row of {label} points to {target_label} {value}, which the "
                "export does not hold. Nothing was imported."
            ) from None

    def insert(self, model, batch, mapping) -> None:
        if not batch:
            return
        created = model._default_manager.bulk_create([obj for _, obj in batch])
        for (old_pk, _), obj in zip(batch, created, strict=True):
            mapping[old_pk] = obj.pk

    def second_pass(self, entry: dict) -> None:
        """Keys to the same table (or to a later one), and `auto_now` times that
        the insert set to now: written back as they were exported."""
        model = apps.get_model(entry["model"])
        label = model._meta.label_lower
        fields = exported_fields(model)
        deferred = [
            f
            for f in fields
            if f.is_relation
            and is_tenant_model(f.related_model)
            and f.related_model is not Organization
            and (
                f.related_model._meta.label_lower == label
                or self._later(f.related_model, entry)
            )
        ]
        stamped = [f for f in fields if getattr(f, "auto_now", False)]
        if not deferred and not stamped:
            return
        mapping = self.keys[label]
        names = [f.name for f in (*deferred, *stamped)]
        batch = []
        for row in _json_rows(self.zf, f"data/{label}.json"):
            obj = model(pk=mapping[row[model._meta.pk.attname]])
            for f in deferred:
                old = row[f.attname]
                target = self.keys[f.related_model._meta.label_lower]
                setattr(obj, f.attname, None if old is None else target[old])
            for f in stamped:
                setattr(obj, f.attname, f.to_python(row[f.attname]))
            batch.append(obj)
            if len(batch) >= BATCH:
                model._default_manager.bulk_update(batch, names)
                batch = []
        if batch:
            model._default_manager.bulk_update(batch, names)

    def _later(self, target, entry) -> bool:
        order = [t["model"] for t in self.manifest["tables"]]
        return order.index(target._meta.label_lower) > order.index(entry["model"])

    # Files

    def store_file(self, obj: models.Model, f: models.FileField, member: str) -> None:
        if member not in self.present:
            # Missing in the source firm's storage too (missing_files.txt):
            # the row keeps a path with nothing behind it, as it had there.
            setattr(
                obj, f.attname, f.generate_filename(obj, PurePosixPath(member).name)
            )
            return
        with self.zf.open(member) as source:
            name = f.storage.save(
                f.generate_filename(obj, PurePosixPath(member).name), File(source)
            )
        self.written.append((f.storage, name))
        setattr(obj, f.attname, name)

    def run(self, *, by: User | None) -> None:
        self.people()
        self.organization_fields()
        for entry in self.manifest["tables"]:
            self.table(entry)
        for entry in self.manifest["tables"]:
            self.second_pass(entry)
        trail, trail_sha256 = self.keep_audit_trail()
        audit_event_record(
            action=AuditAction.FIRM_IMPORTED,
            organizations=[self.organization],
            actor=by,
            target=self.manifest["firm"]["slug"],
            detail={
                "source_firm": self.manifest["firm"],
                "exported_at": self.manifest["created_at"],
                "counts": self.counts,
                "audit_trail": trail,
                "audit_trail_sha256": trail_sha256,
            },
        )

    def keep_audit_trail(self) -> tuple[str, str]:
        """The export's audit members in a zip of their own, in the file store."""
        with tempfile.TemporaryFile() as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as out:
                out.writestr(MANIFEST, self.zf.read(MANIFEST))
                for name in sorted(self.present):
                    if name.startswith("audit/"):
                        with self.zf.open(name) as src, out.open(name, "w") as dst:
                            while block := src.read(COPY_BLOCK):
                                dst.write(block)
            handle.seek(0)
            digest = hashlib.sha256()
            while block := handle.read(COPY_BLOCK):
                digest.update(block)
            handle.seek(0)
            stored = default_storage.save(
                f"private/{self.organization.pk}/imports/audit-trail.zip", File(handle)
            )
        self.written.append((default_storage, stored))
        return stored, digest.hexdigest()


def firm_import(
    *, source: str | IO[bytes], slug: str, by: User | None = None
) -> tuple[Organization, dict[str, int]]:
    """Restore the export in `source` (a path or a binary file) into the firm
    `slug`: made from the export's name when it does not exist, else it must be
    empty. Returns the firm and the rows restored per table. Raises
    ImportRefused, with nothing written, when the zip is not intact or the firm
    has data."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(f"Not a zip file: {exc}") from exc
    with zf:
        manifest = export_verify(zf)
        organization = Organization.objects.filter(slug=slug).first()
        if organization is not None and not firm_is_empty(organization):
            raise ImportRefused(
                f"The firm {slug} already has data: import into an empty firm."
            )
        importer = None
        try:
            with transaction.atomic():
                if organization is None:
                    organization = Organization(
                        slug=slug, name=manifest["firm"]["name"]
                    )
                    organization.full_clean()
                    organization.save()
                importer = _Importer(zf, manifest, organization)
                with tenant_context(organization):
                    importer.run(by=by)
        except BaseException:
            for storage, name in importer.written if importer else ():
                storage.delete(name)
            raise
    return organization, importer.counts
