"""Downloads and views: only through the permission check, always audited (who,
which version and checksum, from which address), never served as something else."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import Engagement, EngagementType
from clients.services.clients import client_update
from documents.models import AccessLevel, Document, DocumentAccess
from documents.services.documents import document_add_version
from tests.documents.scans import text_layer_pdf
from tests.factories import LEDGER, upload_document

PDF = text_layer_pdf(["Form 1099-INT 2024", "Interest income 12.34"])
CSV = LEDGER  # what upload_document stores unless told


def upload_pdf(client, user, **fields) -> Document:
    """The 1099-INT above, uploaded by `user`."""
    return upload_document(client, user, PDF, "1099-INT.pdf", **fields)


def download_events(org) -> list[AuditEvent]:
    with platform_bypass():
        return list(
            AuditEvent.objects.filter(
                organization=org,
                action__in=[
                    AuditAction.DOCUMENT_DOWNLOADED,
                    AuditAction.DOCUMENT_VIEWED,
                ],
            ).order_by("pk")
        )


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_read_only_member_downloads_a_standard_document_and_it_is_audited(
    cast, login_as, jane
):
    document = upload_pdf(jane, cast.sam)

    response = login_as(cast.rita).get(
        f"/o/alpha/documents/{document.uuid}/download/", REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="1099-INT.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    (event,) = download_events(cast.alpha)
    assert event.action == AuditAction.DOCUMENT_DOWNLOADED
    assert event.actor == cast.rita
    assert event.ip_address == "203.0.113.7"
    assert event.detail == {
        "document": str(document.uuid),
        "version": 1,
        "checksum": document.checksum,
        "client": str(jane.uuid),
    }


def test_viewing_a_pdf_shows_it_inline_and_is_audited_as_a_view(cast, login_as, jane):
    document = upload_pdf(jane, cast.sam)

    response = login_as(cast.sam).get(f"/o/alpha/documents/{document.uuid}/view/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="1099-INT.pdf"'
    assert body(response) == PDF
    (event,) = download_events(cast.alpha)
    assert event.action == AuditAction.DOCUMENT_VIEWED


def test_a_type_the_browser_should_not_render_is_downloaded_even_on_view(
    cast, login_as, jane
):
    document = upload_document(jane, cast.sam)  # a CSV ledger

    response = login_as(cast.sam).get(f"/o/alpha/documents/{document.uuid}/view/")

    assert response["Content-Disposition"] == 'attachment; filename="ledger.csv"'
    assert response["Content-Type"] == "text/csv"
    assert download_events(cast.alpha)[0].action == AuditAction.DOCUMENT_DOWNLOADED


def test_any_version_opens_with_its_own_bytes_and_the_audit_names_it(
    cast, login_as, jane
):
    first = upload_document(jane, cast.sam)  # a CSV ledger
    with tenant_context(cast.alpha):
        document_add_version(
            document=first, file=ContentFile(CSV + b"x,1\n"), filename="ledger.csv"
        )

    response = login_as(cast.sam).get(f"/o/alpha/documents/{first.uuid}/download/")

    assert body(response) == CSV
    assert download_events(cast.alpha)[0].detail["version"] == 1


def test_staff_cannot_read_a_confidential_document_and_nothing_is_audited(
    cast, login_as, jane
):
    document = upload_pdf(jane, cast.alice, access_level=AccessLevel.CONFIDENTIAL)
    sam = login_as(cast.sam)

    for page in ("", "download/", "view/", "edit/", "versions/new/"):
        assert sam.get(f"/o/alpha/documents/{document.uuid}/{page}").status_code == 404
    assert download_events(cast.alpha) == []
    admin = login_as(cast.adam)
    assert admin.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 200


@pytest.fixture
def restricted(cast, jane) -> Document:
    return upload_pdf(jane, cast.alice, access_level=AccessLevel.RESTRICTED)


def test_a_restricted_document_is_hidden_from_staff_not_named_on_it(
    cast, login_as, restricted
):
    response = login_as(cast.sam).get(f"/o/alpha/documents/{restricted.uuid}/download/")

    assert response.status_code == 404
    assert login_as(cast.rita).get(
        f"/o/alpha/documents/{restricted.uuid}/"
    ).status_code == (404)


def test_a_person_named_on_a_restricted_document_may_read_every_version(
    cast, login_as, restricted
):
    with tenant_context(cast.alpha):
        later = document_add_version(
            document=restricted, file=ContentFile(PDF + b"\n"), filename="1099.pdf"
        )
        DocumentAccess.objects.create(
            organization=cast.alpha, document=restricted, user=cast.sam
        )
    sam = login_as(cast.sam)

    assert sam.get(f"/o/alpha/documents/{restricted.uuid}/download/").status_code == 200
    assert sam.get(f"/o/alpha/documents/{later.uuid}/download/").status_code == 200


def test_the_uploader_of_a_restricted_document_may_read_its_later_versions(
    cast, login_as, jane
):
    mine = upload_pdf(jane, cast.sam, access_level=AccessLevel.RESTRICTED)
    with tenant_context(cast.alpha):
        later = document_add_version(
            document=mine,
            file=ContentFile(PDF + b"\n"),
            filename="1099.pdf",
            uploaded_by=cast.alice,
        )

    response = login_as(cast.sam).get(f"/o/alpha/documents/{later.uuid}/download/")

    assert response.status_code == 200


def test_the_clients_manager_and_the_engagements_partner_may_read_it(
    cast, login_as, jane, restricted
):
    with tenant_context(cast.alpha):
        client_update(client=jane, data={"manager": cast.sam})
    assert login_as(cast.sam).get(
        f"/o/alpha/documents/{restricted.uuid}/download/"
    ).status_code == (200)

    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=jane,
            name="2024 return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
            partner=cast.rita,
        )
        Document.objects.filter(pk=restricted.pk).update(engagement=engagement)
    assert login_as(cast.rita).get(
        f"/o/alpha/documents/{restricted.uuid}/download/"
    ).status_code == (200)


def test_another_firm_never_reaches_a_document(cast, login_as, jane):
    document = upload_pdf(jane, cast.sam)
    oscar = login_as(cast.oscar)

    assert oscar.get(f"/o/alpha/documents/{document.uuid}/download/").status_code == 404
    assert oscar.get(f"/o/beta/documents/{document.uuid}/download/").status_code == 404
    assert download_events(cast.alpha) == []


def test_a_missing_file_is_reported_on_the_document_page_and_not_audited(
    cast, login_as, jane, media_root
):
    document = upload_pdf(jane, cast.sam)
    (media_root / document.file.name).unlink()

    response = login_as(cast.sam).get(
        f"/o/alpha/documents/{document.uuid}/download/", follow=True
    )

    assert response.redirect_chain == [(f"/o/alpha/documents/{document.uuid}/", 302)]
    assert "The file of version 1 is missing from storage." in response.content.decode()
    assert download_events(cast.alpha) == []


def test_a_download_link_is_refused_to_a_post(cast, login_as, jane):
    document = upload_pdf(jane, cast.sam)

    response = login_as(cast.sam).post(f"/o/alpha/documents/{document.uuid}/download/")

    assert response.status_code == 405
