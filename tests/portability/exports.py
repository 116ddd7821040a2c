"""Reading exports in the tests: build one in memory, open it, and reduce it to
what must survive a round trip (`normalised`)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.export import firm_export_write
from advisoros.tenancy.models import Organization


def export_bytes(organization: Organization) -> bytes:
    out = io.BytesIO()
    with tenant_context(organization):
        firm_export_write(organization=organization, out=out)
    return out.getvalue()


def open_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def stored_files(root: Path) -> list[Path]:
    """Every file under the storage folder."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def _rows(zf: zipfile.ZipFile, name: str) -> list[dict]:
    return json.loads(zf.read(name))


def normalised(zf: zipfile.ZipFile) -> dict:
    """The export's content with what an import may change taken out: primary
    keys become each row's place in its table, foreign keys the place of the
    row they point to, users their email, public ids (uuids, token hashes) are
    dropped, files become the SHA-256 of their bytes. The audit trail is left
    out: the import keeps it aside rather than in the new firm's chain."""
    from django.apps import apps

    manifest = json.loads(zf.read("manifest.json"))
    sha = {m["name"]: m["sha256"] for m in manifest["members"]}
    users = {u["id"]: u["email"] for u in _rows(zf, "people/users.json")}
    tables = {
        t["model"]: _rows(zf, f"data/{t['model']}.json") for t in manifest["tables"]
    }
    place = {
        label: {row["id"]: i for i, row in enumerate(rows)}
        for label, rows in tables.items()
    }
    out = {}
    for label, rows in tables.items():
        model = apps.get_model(label)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        reduced = []
        for row in rows:
            item = {}
            for attname, value in row.items():
                f = fields[attname]
                if f.primary_key or f.unique:
                    continue
                if f.is_relation and value is not None:
                    target = f.related_model._meta.label_lower
                    value = (
                        users[value]
                        if target == "accounts.user"
                        else (target, place[target][value])
                    )
                elif f.get_internal_type() == "FileField" and value:
                    value = sha.get(value, "missing")
                item[attname] = value
            reduced.append(item)
        out[label] = reduced
    firm = json.loads(zf.read("organization.json"))
    if firm.get("logo"):
        firm["logo"] = sha[firm["logo"]]
    out["organization"] = firm
    out["people"] = sorted(
        (u["email"], u["name"]) for u in _rows(zf, "people/users.json")
    )
    return out
