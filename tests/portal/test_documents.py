"""Shared documents in the portal: only the versions shared with Joan's clients,
404 for everything else, every look and copy recorded as Joan's, never a staff
member's."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import Document
from documents.services.documents import document_add_version
from portal.models import Activity, PortalActivity, PortalGrant
from tests.documents.scans import text_layer_pdf
from tests.factories import make_client, make_document, upload_document
from tests.portal.builders import make_grant

PDF = text_layer_pdf(["Form 1040 2025", "Prepared for Jane Doe"])
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


def shared_pdf(client, title: str = "2025 Form 1040", **fields) -> Document:
    fields.setdefault("visible_to_client", True)
    return upload_document(client, None, PDF, "1040.pdf", title=title, **fields)


def url(document: Document, suffix: str = "") -> str:
    return f"/p/alpha/documents/{document.uuid}/{suffix}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def activities(org, action: Activity) -> list[PortalActivity]:
    with tenant_context(org):
        return list(PortalActivity.objects.filter(action=action).order_by("pk"))


def set_grant(grant: PortalGrant, **capabilities) -> None:
    with tenant_context(grant.organization):
        PortalGrant.objects.filter(pk=grant.pk).update(**capabilities)


# The list ---------------------------------------------------------------------------


def test_the_list_shows_only_shared_versions_of_joans_clients(pcast, joan_portal):
    shared = shared_pdf(pcast.jane, "2025 Form 1040")
    with tenant_context(pcast.jane.organization):
        second = document_add_version(
            document=shared, file=ContentFile(PDF + b"\n"), filename="1040-v2.pdf"
        )
    # An earlier version shows only when it is shared itself.
    older = shared_pdf(pcast.jane, "Old organizer")
    with tenant_context(pcast.jane.organization):
        newer = document_add_version(
            document=older, file=ContentFile(PDF + b" "), filename="organizer.pdf"
        )
        Document.objects.filter(pk=older.pk).update(visible_to_client=False)
    shared_pdf(pcast.jane, "Working papers", visible_to_client=False)
    archived = shared_pdf(pcast.jane, "Archived letter")
    with tenant_context(pcast.jane.organization):
        Document.objects.filter(pk=archived.pk).update(archived_at=archived.created_at)
    shared_pdf(pcast.acme, "Acme books")
    shared_pdf(pcast.bruno_client, "Beta return")

    response = joan_portal.get("/p/alpha/documents/")

    assert response.status_code == 200
    rows = response.context["page"].rows
    assert [d.pk for d in rows] == [newer.pk, second.pk, shared.pk]
    content = response.content.decode()
    assert "Working papers" not in content
    assert "Archived letter" not in content
    assert "Acme books" not in content
    assert "Beta return" not in content
    assert "version 2" in content


def test_an_empty_list_says_nothing_is_shared_yet(pcast, joan_portal):
    response = joan_portal.get("/p/alpha/documents/")

    assert response.status_code == 200
    assert "Nothing shared yet" in response.content.decode()


def test_a_contact_with_several_clients_filters_by_client(pcast, joan_portal):
    trust = make_client(pcast.jane.organization, "Doe Family Trust")
    make_grant(pcast.joan, trust)
    shared_pdf(pcast.jane, "Jane's return")
    shared_pdf(trust, "Trust return")

    everything = joan_portal.get("/p/alpha/documents/")
    trust_only = joan_portal.get(f"/p/alpha/documents/?client={trust.uuid}")
    forged = joan_portal.get(f"/p/alpha/documents/?client={pcast.acme.uuid}")

    assert [d.title for d in everything.context["page"].rows] == [
        "Trust return",
        "Jane's return",
    ]
    assert "Doe Family Trust" in everything.content.decode()  # the client column
    assert [d.title for d in trust_only.context["page"].rows] == ["Trust return"]
    # Another client's uuid is not a filter Joan may use: it is ignored.
    assert len(forged.context["page"].rows) == 2


def test_the_list_pages_by_fifty_newest_first(pcast, joan_portal):
    rows = [make_document(pcast.jane, visible_to_client=True) for _ in range(51)]

    first = joan_portal.get("/p/alpha/documents/")
    cursor = first.context["page"].next_cursor
    second = joan_portal.get("/p/alpha/documents/", {"cursor": cursor})

    assert len(first.context["page"].rows) == 50
    assert [d.pk for d in second.context["page"].rows] == [rows[0].pk]
    assert "Older →" in first.content.decode()


def test_the_list_makes_the_same_queries_for_3_or_30_documents(
    pcast, joan_portal, django_assert_num_queries
):
    joan_portal.get("/p/alpha/documents/")  # the first request writes the session
    for count in (3, 27):
        for _ in range(count):
            make_document(pcast.jane, visible_to_client=True)
        # 1 the session, 2 the firm with its RLS context entered (one round
        # trip), 3 the portal account, 4 its grants with contacts and clients,
        # 5 the page of shared documents with their clients, 6 the RLS reset.
        with django_assert_num_queries(6):
            response = joan_portal.get("/p/alpha/documents/")
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 30


def test_a_contact_without_document_access_sees_none(pcast, joan_portal):
    document = shared_pdf(pcast.jane)
    set_grant(pcast.joan_grant, can_view_documents=False)

    listing = joan_portal.get("/p/alpha/documents/")

    assert listing.context["page"].rows == []
    assert "does not include documents" in listing.content.decode()
    for suffix in ("", "download/", "view/"):
        assert joan_portal.get(url(document, suffix)).status_code == 404


def test_signing_in_is_needed(pcast, client):
    document = shared_pdf(pcast.jane)

    for path in ("/p/alpha/documents/", url(document), url(document, "download/")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/p/alpha/"


# One document -----------------------------------------------------------------------


def test_the_page_shows_the_document_and_records_the_view(pcast, joan_portal):
    document = shared_pdf(pcast.jane, category="tax_return", tax_year=2025)

    response = joan_portal.get(url(document), REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 200
    content = response.content.decode()
    assert "2025 Form 1040" in content
    assert "Jane Doe" in content
    assert "Tax return · tax year 2025" in content
    assert "PDF" in content
    assert url(document, "view/") in content
    assert url(document, "download/") in content
    (viewed,) = activities(pcast.jane.organization, Activity.DOCUMENT_VIEWED)
    assert viewed.contact_id == pcast.joan.pk
    assert viewed.client_id == pcast.jane.pk
    assert viewed.ip_address == "198.51.100.4"
    assert viewed.detail["document"] == str(document.uuid)


def test_a_csv_has_no_view_button(pcast, joan_portal):
    document = upload_document(pcast.jane, None, visible_to_client=True)

    content = joan_portal.get(url(document)).content.decode()

    assert url(document, "view/") not in content
    assert url(document, "download/") in content


@pytest.mark.parametrize("whose", ["acme", "jane_not_shared", "beta"])
def test_documents_not_shared_with_joan_answer_404(pcast, joan_portal, whose):
    document = {
        "acme": lambda: shared_pdf(pcast.acme),
        "jane_not_shared": lambda: shared_pdf(pcast.jane, visible_to_client=False),
        "beta": lambda: shared_pdf(pcast.bruno_client),
    }[whose]()

    for suffix in ("", "download/", "view/"):
        response = joan_portal.get(url(document, suffix))
        assert response.status_code == 404, suffix
    assert activities(pcast.jane.organization, Activity.DOCUMENT_DOWNLOADED) == []


# The file ---------------------------------------------------------------------------


def test_a_download_returns_the_file_and_records_who_took_it(pcast, joan_portal):
    document = shared_pdf(pcast.jane)

    response = joan_portal.get(
        url(document, "download/"),
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT=BROWSER,
    )

    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="1040.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    (row,) = activities(pcast.jane.organization, Activity.DOCUMENT_DOWNLOADED)
    assert row.contact_id == pcast.joan.pk
    assert row.client_id == pcast.jane.pk
    assert row.ip_address == "203.0.113.9"
    assert row.user_agent == BROWSER
    assert row.detail["sha256"] == document.checksum
    assert row.detail["inline"] is False


def test_viewing_shows_a_pdf_inline(pcast, joan_portal):
    document = shared_pdf(pcast.jane)

    response = joan_portal.get(url(document, "view/"))

    assert response["Content-Disposition"] == 'inline; filename="1040.pdf"'
    assert body(response) == PDF
    (row,) = activities(pcast.jane.organization, Activity.DOCUMENT_DOWNLOADED)
    assert row.detail["inline"] is True


def test_a_download_is_never_attributed_to_a_staff_sign_in_in_the_same_browser(
    cast, pcast, joan_portal
):
    document = shared_pdf(pcast.jane)
    joan_portal.force_login(cast.alice)  # Alice signed in to the firm, same browser

    response = joan_portal.get(url(document, "download/"))

    assert body(response) == PDF
    with platform_bypass():
        events = list(
            AuditEvent.objects.filter(
                organization=cast.alpha,
                action__in=[
                    AuditAction.DOCUMENT_DOWNLOADED,
                    AuditAction.PORTAL_DOCUMENT_DOWNLOADED,
                ],
            )
        )
    (event,) = events
    assert event.action == AuditAction.PORTAL_DOCUMENT_DOWNLOADED
    assert event.actor is None
    assert event.actor_email == "joan@client.test"


def test_a_missing_file_is_reported_on_the_documents_page(pcast, joan_portal):
    document = shared_pdf(pcast.jane)
    document.file.storage.delete(document.file.name)

    response = joan_portal.get(url(document, "download/"), follow=True)

    assert response.redirect_chain == [(url(document), 302)]
    assert "cannot be opened right now" in response.content.decode()
    assert activities(pcast.jane.organization, Activity.DOCUMENT_DOWNLOADED) == []
