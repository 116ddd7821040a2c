"""Answering a request item from the portal: the same validation and storage as
staff uploads, received at once, replace or remove until the firm accepts, and
the firm's answer shown on the item and emailed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from advisoros.tenancy.db import tenant_context
from documents.models import Document, DocumentRequestItem
from documents.services.requests import (
    document_request_item_accept,
    document_request_item_reject,
)
from portal.models import Activity, PortalActivity
from tests.documents.scans import text_layer_pdf
from tests.portal.builders import make_link

pytestmark = pytest.mark.django_db

WINDOWS_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00" + b"\x00" * 200
)


@pytest.fixture
def linked(pcast, client):
    """Joan, in through the request link (no password)."""
    _, token = make_link(pcast.jane_request, pcast.joan)
    client.post(f"/p/alpha/r/{token}/")
    return client


def _items(pcast) -> list[DocumentRequestItem]:
    with tenant_context(pcast.jane.organization):
        return list(pcast.jane_request.items.order_by("position", "id"))


def _upload_url(pcast, item) -> str:
    return f"/p/alpha/requests/{pcast.jane_request.uuid}/items/{item.uuid}/upload/"


def _upload(http, pcast, item, name="w2.pdf", content=None, **extra):
    content = content if content is not None else text_layer_pdf(["Form W-2 2026"])
    return http.post(
        _upload_url(pcast, item),
        {"files": SimpleUploadedFile(name, content), "upload_token": "t1", **extra},
        HTTP_ACCEPT="application/json",
    )


def test_an_upload_marks_the_item_received_at_once(pcast, linked):
    w2, _ = _items(pcast)
    response = _upload(linked, pcast, w2)
    assert response.status_code == 200, response.content
    assert response.json()["files"][0]["ok"] is True
    with tenant_context(pcast.jane.organization):
        w2.refresh_from_db()
        document = Document.objects.get(request_item=w2)
        activity = PortalActivity.objects.get(action=Activity.UPLOADED)
    assert w2.status == "received" and w2.received_at is not None
    assert document.source == "portal"
    assert document.uploaded_by_contact_id == pcast.joan.pk
    assert document.uploaded_by_id is None
    assert document.client_id == pcast.jane.pk
    assert activity.detail["sha256"] == document.checksum
    page = linked.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/").content.decode()
    assert "w2.pdf" in page and "Received" in page


def test_a_disguised_program_is_refused_with_a_reason_and_nothing_changes(
    pcast, linked
):
    w2, _ = _items(pcast)
    response = _upload(linked, pcast, w2, name="w2.pdf", content=WINDOWS_PROGRAM)
    assert response.status_code == 400
    message = response.json()["files"][0]["message"]
    assert "program" in message.lower()
    with tenant_context(pcast.jane.organization):
        w2.refresh_from_db()
        assert not Document.objects.filter(request_item=w2).exists()
        assert PortalActivity.objects.filter(action=Activity.UPLOAD_REFUSED).exists()
    assert w2.status == "open"


def test_an_oversized_upload_is_refused_unread(pcast, linked, settings):
    from documents.services.settings import document_settings_for

    with tenant_context(pcast.jane.organization):
        rules = document_settings_for(pcast.jane.organization)
        rules.max_upload_mb = 1
        rules.save()
    w2, _ = _items(pcast)
    response = _upload(
        linked, pcast, w2, content=b"%PDF-1.4\n" + b"0" * (22 * 1024 * 1024)
    )
    assert response.status_code == 413
    with tenant_context(pcast.jane.organization):
        assert not Document.objects.filter(request_item=w2).exists()


def test_a_double_submit_stores_one_file(pcast, linked):
    w2, _ = _items(pcast)
    content = text_layer_pdf(["Same bytes"])
    _upload(linked, pcast, w2, content=content)
    again = _upload(linked, pcast, w2, content=content)
    assert "already been received" in again.json()["files"][0]["message"]
    with tenant_context(pcast.jane.organization):
        assert Document.objects.filter(request_item=w2).count() == 1


def test_the_client_removes_their_upload_and_the_item_is_open_again(pcast, linked):
    w2, _ = _items(pcast)
    _upload(linked, pcast, w2)
    with tenant_context(pcast.jane.organization):
        document = Document.objects.get(request_item=w2)
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/uploads/{document.uuid}/remove/"
    assert linked.post(url).status_code == 302
    with tenant_context(pcast.jane.organization):
        w2.refresh_from_db()
        assert not Document.objects.filter(pk=document.pk).exists()
        assert PortalActivity.objects.filter(action=Activity.UPLOAD_REMOVED).exists()
    assert w2.status == "open"


def test_replacing_keeps_the_new_file_only(pcast, linked):
    w2, _ = _items(pcast)
    _upload(linked, pcast, w2, name="blurry.pdf", content=text_layer_pdf(["Blurry"]))
    with tenant_context(pcast.jane.organization):
        first = Document.objects.get(request_item=w2)
    response = _upload(
        linked,
        pcast,
        w2,
        name="sharp.pdf",
        content=text_layer_pdf(["Sharp"]),
        replace=str(first.uuid),
        upload_token="t2",
    )
    assert response.status_code == 200
    with tenant_context(pcast.jane.organization):
        names = list(
            Document.objects.filter(request_item=w2).values_list(
                "original_filename", flat=True
            )
        )
    assert names == ["sharp.pdf"]


def test_after_the_firm_accepts_nothing_more_goes_in_or_out(pcast, linked, cast):
    w2, _ = _items(pcast)
    _upload(linked, pcast, w2)
    with tenant_context(cast.alpha):
        document = Document.objects.get(request_item=w2)
        document_request_item_accept(item=w2, by=cast.alice)
    refused = _upload(linked, pcast, w2, upload_token="t3")
    assert refused.status_code == 400
    assert "already accepted" in refused.json()["files"][0]["message"]
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/uploads/{document.uuid}/remove/"
    linked.post(url)
    with tenant_context(cast.alpha):
        assert Document.objects.filter(pk=document.pk).exists()
    page = linked.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/").content.decode()
    assert "Accepted" in page and "Remove" not in page


def test_another_contacts_upload_cannot_be_removed(pcast, linked, cast):
    from tests.portal.builders import make_contact

    w2, _ = _items(pcast)
    john = make_contact(pcast.jane, "John", "Doe", "john@client.test")
    _, token = make_link(pcast.jane_request, john)
    from django.test import Client as HttpClient

    johns = HttpClient()
    johns.post(f"/p/alpha/r/{token}/")
    _upload(johns, pcast, w2, name="johns.pdf")
    with tenant_context(cast.alpha):
        document = Document.objects.get(request_item=w2)
    url = f"/p/alpha/requests/{pcast.jane_request.uuid}/uploads/{document.uuid}/remove/"
    linked.post(url)
    with tenant_context(cast.alpha):
        assert Document.objects.filter(pk=document.pk).exists()


def test_an_upload_to_another_clients_item_is_not_found(pcast, linked):
    with tenant_context(pcast.acme.organization):
        acme_item = pcast.acme_request.items.get()
    url = f"/p/alpha/requests/{pcast.acme_request.uuid}/items/{acme_item.uuid}/upload/"
    response = linked.post(url, {"files": SimpleUploadedFile("x.pdf", b"%PDF-1.4")})
    assert response.status_code == 404
    # Jane's request with Acme's item: not found either.
    mixed = (
        f"/p/alpha/requests/{pcast.jane_request.uuid}/items/{acme_item.uuid}/upload/"
    )
    assert (
        linked.post(
            mixed, {"files": SimpleUploadedFile("x.pdf", b"%PDF-1.4")}
        ).status_code
        == 404
    )
    with tenant_context(pcast.acme.organization):
        assert not Document.objects.filter(client=pcast.acme).exists()


def test_the_firms_answer_shows_on_the_item_and_is_emailed(
    pcast, linked, cast, django_capture_on_commit_callbacks
):
    w2, interest = _items(pcast)
    _upload(linked, pcast, w2)
    _upload(linked, pcast, interest, name="1099.pdf", upload_token="t4")
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.alpha):
        document_request_item_reject(
            item=w2, by=cast.alice, reason="This is the 2024 W-2"
        )
        document_request_item_accept(item=interest, by=cast.alice)
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "Alpha Accounting accepted “1099-INT”",
        "Alpha Accounting needs “W-2” again",
    ]
    rejected = next(m for m in mail.outbox if "again" in m.subject)
    assert rejected.to == ["joan@client.test"]
    assert "This is the 2024 W-2" in rejected.body
    page = linked.get(f"/p/alpha/requests/{pcast.jane_request.uuid}/").content.decode()
    assert "This is the 2024 W-2" in page and "Please send again" in page


def test_a_staff_login_in_the_same_browser_is_not_the_uploads_actor(
    pcast, linked, cast
):
    from advisoros.audit.models import LogEntry

    linked.force_login(cast.alice)  # Alice is signed in to the staff side too
    w2, _ = _items(pcast)
    assert _upload(linked, pcast, w2).status_code == 200
    with tenant_context(cast.alpha):
        document = Document.objects.get(request_item=w2)
        entries = LogEntry.objects.filter(object_pk=str(document.pk))
        assert entries.exists()
        assert not entries.filter(actor=cast.alice).exists()
