"""A full disk during an upload: a clear answer, and nothing half-written left.

The file store (MEDIA_ROOT, where uploads also arrive, in its incoming/ folder)
and Django's temporary folder are a 2 MiB tmpfs made for the test; a 3 MiB
upload fills it while it arrives. Each way in is tried: the staff page's script
(raw body, JSON answer), the staff page without JavaScript (a multipart form,
message on the page it came from), the client portal, and a service copying a
file in. Afterwards the disk is empty again (the partial file was deleted, not
left to the garbage collector or the nightly sweep), there is no Document row,
and a small upload goes through.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from advisoros.outage import STORAGE_FULL_MESSAGE
from advisoros.tenancy.db import tenant_context
from documents.models import Document
from documents.services.documents import document_create
from tests.portal.builders import make_link
from tests.portal.conftest import pcast  # noqa: F401  (the portal's cast)

BIG = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)  # more than the disk holds
SMALL = b"date,amount\n2026-01-31,100.00\n"


@pytest.fixture
def full_store(small_disk: Path, settings) -> Path:
    settings.MEDIA_ROOT = str(small_disk)
    settings.FILE_UPLOAD_TEMP_DIR = str(small_disk)
    return small_disk


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def used_bytes(root: Path) -> int:
    stats = os.statvfs(root)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def documents_of(client) -> list[Document]:
    with tenant_context(client.organization):
        return list(Document.objects.filter(client=client))


def assert_nothing_left(client, root: Path) -> None:
    assert documents_of(client) == []
    assert files_under(root) == []
    assert used_bytes(root) < 64 * 1024  # the partial upload's blocks are free again


def staff_upload_url(client) -> str:
    return f"/o/alpha/clients/{client.uuid}/documents/upload/"


def test_the_upload_script_hears_that_the_disk_is_full_and_nothing_is_kept(
    cast, login_as, jane, full_store
):
    web = login_as(cast.sam)
    response = web.post(
        staff_upload_url(jane),
        data=BIG,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME=quote("bank statement.pdf"),
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 507
    (answer,) = response.json()["files"]
    assert answer == {
        "name": "bank statement.pdf",
        "ok": False,
        "message": STORAGE_FULL_MESSAGE,
    }
    assert_nothing_left(jane, full_store)

    # The space is free again: the next (small) file is stored.
    response = web.post(
        staff_upload_url(jane),
        data=SMALL,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME="ledger.csv",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    [document] = documents_of(jane)
    assert (full_store / document.file.name).read_bytes() == SMALL


def test_the_plain_upload_form_says_so_on_the_page_it_came_from(
    cast, login_as, jane, full_store
):
    web = login_as(cast.sam)
    page = f"http://testserver{staff_upload_url(jane)}"
    response = web.post(
        staff_upload_url(jane),
        {"files": SimpleUploadedFile("scan.pdf", BIG, "application/pdf")},
        HTTP_REFERER=page,
        follow=True,
    )

    assert response.redirect_chain == [(page, 302)]
    assert STORAGE_FULL_MESSAGE in response.content.decode()
    assert_nothing_left(jane, full_store)


def test_a_portal_upload_hears_that_the_disk_is_full_and_the_item_waits(
    pcast,  # noqa: F811
    client,
    full_store,
):
    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(f"/p/alpha/r/{token}/")
    with tenant_context(pcast.jane.organization):
        item = pcast.jane_request.items.order_by("position", "id").first()
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/items/{item.uuid}/upload/"

    response = client.post(
        url,
        {"files": SimpleUploadedFile("w2.pdf", BIG), "upload_token": "t1"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 507
    assert response.json()["files"][0]["message"] == STORAGE_FULL_MESSAGE
    with tenant_context(pcast.jane.organization):
        item.refresh_from_db()
    assert item.status == "open" and item.received_at is None
    assert_nothing_left(pcast.jane, full_store)
    # Without the script: a page that says it, not a stack trace.
    response = client.post(
        url, {"files": SimpleUploadedFile("w2.pdf", BIG), "upload_token": "t2"}
    )
    assert response.status_code == 507
    assert STORAGE_FULL_MESSAGE in response.content.decode()
    assert_nothing_left(pcast.jane, full_store)


def test_a_service_copying_a_file_in_raises_and_leaves_nothing(cast, jane, full_store):
    with tenant_context(cast.alpha), pytest.raises(OSError) as raised:
        document_create(
            client=jane, file=ContentFile(BIG, name="restore.pdf"), filename="r.pdf"
        )
    assert raised.value.errno == 28  # ENOSPC: the view layer answers it with 507
    assert_nothing_left(jane, full_store)
