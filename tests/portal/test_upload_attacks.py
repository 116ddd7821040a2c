"""The upload attack set through the client portal: a request item's upload and
a message's attachment, with the real clamd. Each file is refused, or answered
("received — we are checking it") within a second and quarantined by the scan
job its commit queues (run here as the commit would); the client is told "we
could not accept this file" and never the scanner's finding; nothing stays but
a quarantined row the client never sees and nobody can download."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from advisoros.tenancy.db import tenant_context
from documents.models import Document, DocumentRequestItem, ScanStatus
from documents.services.requests import document_request_item_accept
from portal.models import Message
from tests import attack_files
from tests.documents.conftest import stored_files

pytestmark = pytest.mark.django_db

ATTACKS = [
    "eicar_txt",
    "svg_with_script",
    "pixel_bomb",
    "zip_bomb_docx",
    "many_pages_pdf",
    "doc_with_macros",
    "docx_with_macros",
]


def _documents(pcast) -> list[Document]:
    with tenant_context(pcast.jane.organization):
        return list(Document.objects.filter(client=pcast.jane))


def _item_upload(http, pcast, name, content, capture, *, run_jobs=True):
    """Upload to the request's first item; the request's time only. Then run
    what its commit queues (the scan job), unless `run_jobs` is false."""
    with tenant_context(pcast.jane.organization):
        item = pcast.jane_request.items.order_by("position", "id").first()
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/items/{item.uuid}/upload/"
    # The process's first upload (imports, libmagic's database) is not timed.
    http.post(url, {"files": SimpleUploadedFile("x.exe", b"MZ" + bytes(100))})
    with capture() as callbacks:
        started = time.monotonic()
        response = http.post(
            url,
            {"files": SimpleUploadedFile(name, content), "upload_token": "t1"},
            HTTP_ACCEPT="application/json",
        )
        elapsed = time.monotonic() - started
    if run_jobs:
        with capture(execute=True):
            for callback in callbacks:
                callback()
    return item, response, elapsed


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_item_upload_is_refused_or_quarantined_within_a_second(
    attack, pcast, joan_portal, scanner, media_root, django_capture_on_commit_callbacks
):
    name, content = getattr(attack_files, attack)()

    item, response, elapsed = _item_upload(
        joan_portal, pcast, name, content, django_capture_on_commit_callbacks
    )

    assert elapsed < 1.0
    (result,) = response.json()["files"]
    assert "Eicar" not in result["message"]
    documents = _documents(pcast)
    with tenant_context(pcast.jane.organization):
        item.refresh_from_db()
    if attack == "eicar_txt":
        # Received at once; the job's verdict then sends the item back.
        assert result["ok"] is True
        assert "we are checking it" in result["message"]
        (document,) = documents
        assert document.scan_status == ScanStatus.INFECTED
        assert document.request_item_id is None
        assert document.visible_to_client is False
        assert len(stored_files(media_root)) == 1
        assert item.status == DocumentRequestItem.Status.REJECTED
        assert item.rejection_reason.startswith("We could not accept notes.txt")
        page = joan_portal.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/")
        html = page.content.decode()
        assert "We could not accept notes.txt: it did not pass our security" in html
        assert "Eicar" not in html
    else:
        assert result["ok"] is False
        assert item.status == DocumentRequestItem.Status.OPEN
        assert documents == []
        assert stored_files(media_root) == []


def test_the_client_never_sees_a_quarantined_file_or_its_finding(
    pcast, joan_portal, scanner, django_capture_on_commit_callbacks
):
    name, content = attack_files.eicar_txt()
    _item_upload(joan_portal, pcast, name, content, django_capture_on_commit_callbacks)
    (document,) = _documents(pcast)
    # Even if staff share the lineage, the quarantined version stays hidden.
    with tenant_context(pcast.jane.organization):
        Document.objects.filter(pk=document.pk).update(visible_to_client=True)

    listing = joan_portal.get("/p/alpha/documents/")
    request_page = joan_portal.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/")

    assert document.title not in listing.content.decode()
    for page in (listing, request_page):
        assert b"Eicar" not in page.content
    for action in ("", "download/", "view/"):
        url = f"/p/alpha/documents/{document.uuid}/{action}"
        assert joan_portal.get(url).status_code == 404


@pytest.mark.parametrize("attack", ["svg_with_script", "pixel_bomb"])
def test_a_message_with_a_refused_file_attached_is_not_sent(
    attack, pcast, joan_portal, scanner
):
    name, content = getattr(attack_files, attack)()
    url = f"/p/alpha/messages/{pcast.jane.uuid}/"

    started = time.monotonic()
    response = joan_portal.post(
        url,
        {
            "body": "Here it is",
            "upload_token": "m1",
            "files": [SimpleUploadedFile(name, content)],
        },
    )
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert response.status_code == 200  # the form again, with the reason
    with tenant_context(pcast.jane.organization):
        assert not Message.objects.filter(client=pcast.jane).exists()
    assert _documents(pcast) == []


def test_a_message_with_eicar_attached_is_sent_and_its_file_quarantined(
    pcast, joan_portal, scanner, django_capture_on_commit_callbacks
):
    name, content = attack_files.eicar_txt()
    url = f"/p/alpha/messages/{pcast.jane.uuid}/"

    with django_capture_on_commit_callbacks(execute=True):
        started = time.monotonic()
        joan_portal.post(
            url,
            {
                "body": "Here it is",
                "upload_token": "m1",
                "files": [SimpleUploadedFile(name, content)],
            },
        )
        elapsed = time.monotonic() - started

    assert elapsed < 1.0
    with tenant_context(pcast.jane.organization):
        assert Message.objects.filter(client=pcast.jane).exists()
    (document,) = _documents(pcast)
    assert document.scan_status == ScanStatus.INFECTED
    assert document.visible_to_client is False
    thread = joan_portal.get(url).content.decode()
    assert "not accepted: it did not pass our security check" in thread
    assert "Eicar" not in thread
    assert f"/p/alpha/documents/{document.uuid}/" not in thread


def test_a_pending_upload_is_received_hidden_and_not_accepted_until_clean(
    cast, pcast, joan_portal, scanner, django_capture_on_commit_callbacks
):
    name, content = attack_files.clean_pdf()

    item, response, _ = _item_upload(
        joan_portal,
        pcast,
        name,
        content,
        django_capture_on_commit_callbacks,
        run_jobs=False,
    )

    (result,) = response.json()["files"]
    assert "we are checking it" in result["message"]
    (document,) = _documents(pcast)
    assert document.scan_status == ScanStatus.PENDING
    page = joan_portal.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/")
    assert 'data-testid="file-checking"' in page.content.decode()
    with tenant_context(pcast.jane.organization):
        Document.objects.filter(pk=document.pk).update(visible_to_client=True)
        item.refresh_from_db()
        assert item.status == DocumentRequestItem.Status.RECEIVED
        with pytest.raises(ValidationError, match="virus check"):
            document_request_item_accept(item=item, by=cast.alice)
    for action in ("", "download/", "view/"):
        url = f"/p/alpha/documents/{document.uuid}/{action}"
        assert joan_portal.get(url).status_code == 404
    assert (
        str(document.uuid)
        not in joan_portal.get("/p/alpha/documents/").content.decode()
    )


def test_a_clean_item_upload_is_received_and_clean(
    cast, pcast, joan_portal, scanner, django_capture_on_commit_callbacks
):
    name, content = attack_files.clean_pdf()

    item, response, elapsed = _item_upload(
        joan_portal, pcast, name, content, django_capture_on_commit_callbacks
    )

    assert response.json()["files"][0]["ok"] is True
    (document,) = _documents(pcast)
    assert document.scan_status == ScanStatus.CLEAN
    assert document.request_item_id == item.pk
    with tenant_context(pcast.jane.organization):
        item.refresh_from_db()
        accepted = document_request_item_accept(item=item, by=cast.alice)
    assert accepted.status == DocumentRequestItem.Status.ACCEPTED
