"""The restore drill (scripts/restore_drill.py) on a database with data: a firm,
its client, a stored document and audit events. The drill dumps it, copies the
file store, restores both into a fresh database and folder and verifies them
(row counts, file checksums, `audit_verify`); then the app runs on the copy: a
page loads and the document downloads with the same bytes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import psycopg
import pytest

from tests.faults.servers import BASE_DIR, app_env, gunicorn, manage

pytestmark = pytest.mark.slow

CONTENT = (
    b"date,amount,memo\n2026-01-31,1250.00,Retainer\n" + os.urandom(2048).hex().encode()
)

SEED = """
import sys
from django.core.files.base import ContentFile
from django.test import Client as Browser
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization, Role
from documents.services.documents import document_create
from tests.factories import make_client, make_user
with platform_bypass():
    firm = Organization.objects.create(name="Drill Firm", slug="drill")
    owner = make_user("owner@drill.test", "Dee Owner")
    Membership.objects.create(organization=firm, user=owner, role=Role.OWNER)
    audit_event_record(action=AuditAction.FIRM_CREATED, organizations=[firm], actor=owner)
    for _ in range(3):
        audit_event_record(action=AuditAction.LOGIN_SUCCESS, organizations=[firm], actor=owner)
client = make_client(firm, "Restored Client")
with tenant_context(firm):
    document = document_create(
        client=client, file=ContentFile(open(sys.argv[-1], "rb").read()),
        filename="ledger.csv", uploaded_by=owner,
    )
browser = Browser()
browser.force_login(owner)
print("SEEDED", browser.cookies["sessionid"].value, document.uuid)
"""


def test_the_drill_restores_database_and_files_and_the_app_runs_on_the_copy(
    postgres_server, tmp_path
):
    server, app_url = postgres_server
    media, restored_media = tmp_path / "media", tmp_path / "restored-media"
    media.mkdir()
    content_file = tmp_path / "ledger.csv"
    content_file.write_bytes(CONTENT)
    seed = tmp_path / "seed.py"
    seed.write_text(SEED)
    out = manage(
        app_url,
        "shell",
        "-c",
        f"import sys; sys.argv.append({str(content_file)!r}); exec(open({str(seed)!r}).read())",
        MEDIA_ROOT=str(media),
    )
    session, document_uuid = out.split("SEEDED", 1)[1].split()
    restored_app_url = app_url.rsplit("/", 1)[0] + "/advisoros_restored"

    try:
        drill = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "scripts/restore_drill.py",
                "--admin-url",
                server.url("advisoros"),
                "--media",
                str(media),
                "--target-db",
                "advisoros_restored",
                "--target-media",
                str(restored_media),
                "--app-url",
                restored_app_url,
                "--workdir",
                str(tmp_path / "drill"),
                "--keep",
            ],
            cwd=BASE_DIR,
            env=app_env(app_url),  # the same keys as the app that wrote the data
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        report = drill.stdout + drill.stderr
        assert drill.returncode == 0, report
        assert "row counts match" in report
        assert "all 1 document files present with their checksums" in report
        events = re.search(r"Drill Firm: (\d+) events, chain intact", report)
        assert events and int(events[1]) >= 4, report  # and the upload's, if any
        assert "PASSED" in report
        # The live database was only read.
        assert (media / "private").is_dir()

        with gunicorn(
            restored_app_url, tmp_path / "gunicorn.log", MEDIA_ROOT=str(restored_media)
        ) as base:
            import urllib.request

            def get(path: str):
                request = urllib.request.Request(  # noqa: S310
                    base + path, headers={"Cookie": f"sessionid={session}"}
                )
                return urllib.request.urlopen(request, timeout=30)  # noqa: S310

            page = get("/o/drill/clients/")
            assert page.status == 200
            assert "Restored Client" in page.read().decode()
            download = get(f"/o/drill/documents/{document_uuid}/download/")
            assert download.status == 200
            assert download.read() == CONTENT
    finally:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS advisoros_restored WITH (FORCE)")
