"""The file store on S3: the same uploads, versions, downloads and deletions against
a real S3-compatible server (moto's, started on loopback for this test session),
with downloads answered by a short-lived presigned link that really fetches the
bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from django.conf import settings as django_settings
from django.core.files.base import ContentFile

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import Document
from documents.services.documents import (
    document_add_version,
    document_create,
    document_restore_version,
)
from documents.storage import document_file_delete
from tests.conftest import BUCKET, KEYS, REGION
from tests.documents.scans import text_layer_pdf

PDF = text_layer_pdf(["Bank statement January 2025", "Closing balance 1,234.56"])


@pytest.fixture
def s3(s3_endpoint, settings, tmp_path):
    """Default storage switched to the S3 server, under a prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.STORAGES = {
        **django_settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "region_name": REGION,
                "endpoint_url": s3_endpoint,
                **KEYS,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "location": prefix,
                "default_acl": None,
                "file_overwrite": False,
                "querystring_expire": 60,
                "object_parameters": {"ServerSideEncryption": "AES256"},
            },
        },
    }
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(incoming)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )

    class Bucket:
        def keys(self) -> list[str]:
            listing = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
            return sorted(o["Key"] for o in listing.get("Contents", []))

        def head(self, document: Document) -> dict:
            return client.head_object(
                Bucket=BUCKET, Key=f"{prefix}/{document.file.name}"
            )

        def read(self, document: Document) -> bytes:
            key = f"{prefix}/{document.file.name}"
            return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

        def leftovers(self) -> list[Path]:
            return [p for p in incoming.rglob("*") if p.is_file()]

    return Bucket()


def send_raw(web, client, content: bytes, name: str):
    return web.post(
        f"/o/alpha/clients/{client.uuid}/documents/upload/",
        data=content,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME=quote(name),
        HTTP_ACCEPT="application/json",
        CONTENT_TYPE="application/octet-stream",
    )


def fetch(url: str) -> tuple[bytes, Message]:
    assert url.startswith("http://127.0.0.1:")  # loopback only
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.read(), response.headers  # case-insensitive


def test_an_upload_lands_in_the_bucket_private_encrypted_and_typed(
    cast, login_as, jane, s3
):
    response = send_raw(login_as(cast.sam), jane, PDF, "January.pdf")

    assert response.status_code == 200, response.content
    with tenant_context(cast.alpha):
        document = Document.objects.get(client=jane)
    assert s3.read(document) == PDF
    head = s3.head(document)
    assert head["ContentType"] == "application/pdf"
    assert head["ServerSideEncryption"] == "AES256"
    assert document.checksum == hashlib.sha256(PDF).hexdigest()
    assert document.file.name == f"private/{cast.alpha.pk}/documents/{document.uuid}"
    assert s3.leftovers() == []  # the temporary file is gone


def test_a_download_redirects_to_a_short_lived_link_that_fetches_the_bytes(
    cast, login_as, jane, s3
):
    with tenant_context(cast.alpha):
        document = document_create(
            client=jane, file=ContentFile(PDF), filename="January.pdf"
        )

    response = login_as(cast.rita).get(
        f"/o/alpha/documents/{document.uuid}/download/", REMOTE_ADDR="198.51.100.4"
    )

    assert response.status_code == 302
    query = parse_qs(urlsplit(response.url).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["response-content-disposition"] == [
        'attachment; filename="January.pdf"'
    ]
    content, headers = fetch(response.url)
    assert content == PDF
    assert headers["Content-Disposition"] == 'attachment; filename="January.pdf"'
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "private, no-store"
    with platform_bypass():
        event = AuditEvent.objects.get(
            organization=cast.alpha, action=AuditAction.DOCUMENT_DOWNLOADED
        )
    assert event.ip_address == "198.51.100.4"
    assert event.detail["version"] == 1
    assert event.detail["checksum"] == document.checksum


def test_a_view_link_shows_the_pdf_inline(cast, login_as, jane, s3):
    with tenant_context(cast.alpha):
        document = document_create(
            client=jane, file=ContentFile(PDF), filename="January.pdf"
        )

    response = login_as(cast.sam).get(f"/o/alpha/documents/{document.uuid}/view/")

    _, headers = fetch(response.url)
    assert headers["Content-Disposition"] == 'inline; filename="January.pdf"'


def test_versions_and_a_restore_each_get_their_own_object(cast, login_as, jane, s3):
    later = PDF.replace(b"1,234.56", b"9,876.54")
    with tenant_context(cast.alpha):
        first = document_create(client=jane, file=ContentFile(PDF), filename="s.pdf")
        second = document_add_version(
            document=first, file=ContentFile(later), filename="s.pdf"
        )
        third = document_restore_version(version=first, restored_by=cast.sam)

    assert [d.version for d in (first, second, third)] == [1, 2, 3]
    assert len(s3.keys()) == 3
    assert s3.read(second) == later
    assert s3.read(third) == PDF
    response = login_as(cast.sam).get(f"/o/alpha/documents/{first.uuid}/download/")
    assert fetch(response.url)[0] == PDF
    assert s3.leftovers() == []


def test_deleting_a_stored_file_removes_the_object(cast, jane, s3):
    with tenant_context(cast.alpha):
        document = document_create(client=jane, file=ContentFile(PDF), filename="s.pdf")
    assert len(s3.keys()) == 1

    document_file_delete(document.file.name)

    assert s3.keys() == []
    with pytest.raises(ClientError):
        s3.head(document)


def test_a_refused_upload_leaves_no_object_and_no_row(cast, login_as, jane, s3):
    program = (
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00" + b"\x00" * 200
    )

    response = send_raw(login_as(cast.sam), jane, program, "invoice.pdf")

    assert response.status_code == 400
    assert s3.keys() == []
    assert s3.leftovers() == []
    with tenant_context(cast.alpha):
        assert not Document.objects.filter(client=jane).exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_BUCKET": "b"}, "S3_REGION must be set too"),
        (
            {"S3_BUCKET": "b", "S3_REGION": REGION, "AWS_ACCESS_KEY_ID": "x"},
            "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither",
        ),
        ({"S3_ENDPOINT_URL": "http://127.0.0.1:9"}, "S3_BUCKET is not"),
    ],
    ids=["no-region", "half-a-key", "endpoint-without-bucket"],
)
def test_a_half_configured_s3_refuses_to_start(env, message):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_"))}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import advisoros.settings"],
        env={**clean, "DJANGO_DEBUG": "true", **env},
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
