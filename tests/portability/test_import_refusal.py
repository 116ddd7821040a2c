"""The import refuses a changed or damaged export, or a firm that has data, and
writes nothing: no firm, no rows, no files."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest

from advisoros.tenancy.firm_import import ImportRefused, firm_import
from advisoros.tenancy.models import Organization
from tests.portability.exports import export_bytes, stored_files


def _rewritten(data: bytes, name: str, change) -> bytes:
    """The zip with member `name` changed (its manifest entry left as it was)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == name:
                body = change(body)
            if body is not None:
                target.writestr(info.filename, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("member", "change", "message"),
    [
        (
            "data/clients.client.json",
            lambda b: b.replace(b"Jane Doe", b"Jane Dough"),
            "does not match its checksum",
        ),
        ("data/clients.note.json", lambda b: None, "are missing"),
        ("manifest.json", lambda b: b"{not json", "not valid JSON"),
    ],
)
def test_a_changed_export_is_refused_and_nothing_is_written(
    full_firm, media_root, member, change, message
):
    data = _rewritten(export_bytes(full_firm), member, change)
    files_before = stored_files(media_root)

    with pytest.raises(ImportRefused, match=message):
        firm_import(source=io.BytesIO(data), slug="gamma")

    assert not Organization.objects.filter(slug="gamma").exists()
    assert stored_files(media_root) == files_before


def test_a_file_added_to_the_zip_is_refused(full_firm):
    data = export_bytes(full_firm)
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("files/extra.exe", b"MZ")

    with pytest.raises(ImportRefused, match="does not list"):
        firm_import(source=io.BytesIO(out.getvalue()), slug="gamma")


def test_a_firm_with_data_is_refused(cast, full_firm):
    with pytest.raises(ImportRefused, match="already has data"):
        firm_import(source=io.BytesIO(export_bytes(full_firm)), slug="beta")


def test_a_failure_halfway_removes_the_files_already_written(
    cast, full_firm, media_root
):
    """A comment pointing to a task the export does not have: the firm edited
    its export by hand and fixed the manifest, so the checksums pass, but the
    import stops at that table, after the documents' files were stored."""
    name = "data/workflows.taskcomment.json"
    broken = _rewritten(
        export_bytes(full_firm),
        name,
        lambda b: re.sub(rb'"task_id": \d+', b'"task_id": 999999999', b),
    )
    broken = _with_manifest_fixed(broken, name)
    files_before = stored_files(media_root)

    with pytest.raises(ImportRefused, match="workflows.task 999999999"):
        firm_import(source=io.BytesIO(broken), slug="gamma")

    assert stored_files(media_root) == files_before
    assert not Organization.objects.filter(slug="gamma").exists()


def _with_manifest_fixed(data: bytes, name: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json"))
    body = source.read(name)
    for entry in manifest["members"]:
        if entry["name"] == name:
            entry["size"], entry["sha256"] = len(body), hashlib.sha256(body).hexdigest()
    return _rewritten(data, "manifest.json", lambda b: json.dumps(manifest).encode())
