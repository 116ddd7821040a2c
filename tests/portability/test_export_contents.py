"""What a firm export holds: every table as JSON and CSV, every file with all its
versions, the audit trail, people without secrets, and a manifest that checks it."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from advisoros.tenancy.export import firm_tables
from tests.portability.exports import export_bytes, open_zip


def test_the_manifest_lists_every_member_with_its_checksum_and_size(full_firm):
    zf = open_zip(export_bytes(full_firm))
    manifest = json.loads(zf.read("manifest.json"))

    assert manifest["format"] == "advisoros-firm-export"
    assert manifest["format_version"] == 1
    assert manifest["firm"]["slug"] == "alpha"
    listed = {m["name"]: m for m in manifest["members"]}
    assert set(zf.namelist()) == {*listed, "manifest.json"}
    for name, entry in listed.items():
        data = zf.read(name)
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    for table in manifest["tables"]:
        assert manifest["counts"][table["model"]] == table["rows"]
        assert f"data/{table['model']}.json" in listed
        assert f"data/{table['model']}.csv" in listed


def test_every_table_of_the_firm_is_exported_and_nothing_of_another(cast, full_firm):
    from tests.factories import make_client

    make_client(cast.beta, "Bob Beta")
    zf = open_zip(export_bytes(full_firm))

    labels = {t["model"] for t in json.loads(zf.read("manifest.json"))["tables"]}
    assert labels == {m._meta.label_lower for m in firm_tables()}
    clients = json.loads(zf.read("data/clients.client.json"))
    assert {c["display_name"] for c in clients} == {
        "Sample One",
        "Sample Two",
        "Jane Doe",
    }


def test_the_csv_has_the_same_rows_as_the_json(full_firm):
    zf = open_zip(export_bytes(full_firm))

    rows = json.loads(zf.read("data/clients.client.json"))
    table = list(
        csv.DictReader(io.StringIO(zf.read("data/clients.client.csv").decode()))
    )
    assert [r["uuid"] for r in table] == [r["uuid"] for r in rows]
    assert table[-1]["display_name"] == "Jane Doe"


def test_tax_ids_are_exported_in_plain_text(full_firm):
    zf = open_zip(export_bytes(full_firm))

    jane = next(
        c
        for c in json.loads(zf.read("data/clients.client.json"))
        if c["display_name"] == "Jane Doe"
    )
    assert jane["tax_id"] == "123-45-6789"


def test_every_version_of_a_document_and_every_stored_file_is_in_the_zip(full_firm):
    zf = open_zip(export_bytes(full_firm))
    manifest = json.loads(zf.read("manifest.json"))

    documents = json.loads(zf.read("data/documents.document.json"))
    ledger = [d for d in documents if d["original_filename"].startswith("ledger")]
    assert sorted(d["version"] for d in ledger) == [1, 2]
    for document in ledger:
        data = zf.read(document["file"])
        assert hashlib.sha256(data).hexdigest() == document["checksum"]
    # The message's attachment, the engagement letter and the firm's logo too.
    assert any(d["original_filename"] == "statement.pdf" for d in documents)
    engagement = next(
        e for e in json.loads(zf.read("data/clients.engagement.json")) if e["letter"]
    )
    assert zf.read(engagement["letter"]).startswith(b"%PDF")
    firm = json.loads(zf.read("organization.json"))
    assert zf.read(firm["logo"]).startswith(b"\x89PNG")
    # The sample document's file was never stored: listed as missing, not fatal.
    assert manifest["missing_files"] == 1
    assert zf.read("missing_files.txt").decode().startswith("files/documents.document/")


def test_people_are_exported_without_passwords_or_two_factor_secrets(full_firm):
    zf = open_zip(export_bytes(full_firm))

    users = json.loads(zf.read("people/users.json"))
    assert {u["email"] for u in users} >= {"alice@alpha.test", "rita@alpha.test"}
    assert "oscar@beta.test" not in {u["email"] for u in users}
    assert set(users[0]) == {
        "id",
        "email",
        "name",
        "is_active",
        "date_joined",
        "last_login",
    }
    assert b"md5$" not in zf.read("people/users.json")


def test_the_audit_trail_and_change_log_are_in_the_export(full_firm):
    zf = open_zip(export_bytes(full_firm))

    events = json.loads(zf.read("audit/audit_events.json"))
    assert events[0]["action"] == "firm_created"
    assert all(len(e["hash"]) == 64 for e in events if e["sequence"] is not None)
    changes = json.loads(zf.read("audit/change_log.json"))
    assert any(c["content_type_id"] == "clients.client" for c in changes)


def test_portal_accounts_of_the_firms_contacts_are_listed_without_secrets(
    full_firm,
):
    from tests.portal.builders import make_portal_account

    make_portal_account("Jane@Example.com", "a-long-portal-password-1")
    make_portal_account("stranger@example.com", "a-long-portal-password-2")

    zf = open_zip(export_bytes(full_firm))

    accounts = json.loads(zf.read("people/portal_accounts.json"))
    assert [a["email"] for a in accounts] == ["jane@example.com"]
    assert set(accounts[0]) == {
        "email",
        "is_active",
        "created_at",
        "last_login_at",
        "has_two_factor",
    }
