"""`export_firm` and `import_firm` from the command line."""

from __future__ import annotations

import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import FirmExport, Organization
from clients.models import Client


def test_export_firm_writes_the_zip_to_a_file_and_import_firm_restores_it(
    cast, full_firm, tmp_path
):
    out = tmp_path / "alpha.zip"

    call_command("export_firm", "alpha", "--out", str(out))
    call_command("import_firm", str(out), "--into", "alpha-restored")

    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    restored = Organization.objects.get(slug="alpha-restored")
    assert restored.name == "Alpha Accounting"
    with tenant_context(restored):
        assert (
            Client.objects.filter(organization=restored).count()
            == (manifest["counts"]["clients.client"])
        )
    with tenant_context(cast.alpha):
        assert AuditEvent.objects.filter(action=AuditAction.FIRM_EXPORTED).exists()


def test_export_firm_without_out_stores_the_export_for_the_owners(cast, full_firm):
    call_command("export_firm", "alpha")

    with tenant_context(cast.alpha):
        export = FirmExport.objects.get(
            organization=cast.alpha, status=FirmExport.Status.READY
        )
    assert export.size > 0 and export.file.name.endswith(".zip")


def test_import_firm_refuses_a_zip_whose_checksum_is_not_the_one_given(
    cast, full_firm, tmp_path
):
    out = tmp_path / "alpha.zip"
    call_command("export_firm", "alpha", "--out", str(out))

    with pytest.raises(CommandError, match="SHA-256"):
        call_command("import_firm", str(out), "--into", "x", "--sha256", "0" * 64)
    assert not Organization.objects.filter(slug="x").exists()
