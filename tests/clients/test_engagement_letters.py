"""The engagement page and its letter: upload, download (audited), acceptance."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Engagement, Note
from clients.services.engagements import LETTER_MAX_BYTES
from clients.signals import engagement_letter_accepted

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Letters go to a fresh file store per test (the real FileSystemStorage)."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def acme(cast, make_client):
    return make_client(cast.alpha, "Acme Corp", staff=cast.sam)


@pytest.fixture
def engagement(acme, make_engagement):
    return make_engagement(acme, "2025 return")


def _url(engagement, suffix: str = "") -> str:
    return f"/o/{engagement.organization.slug}/engagements/{engagement.uuid}/{suffix}"


def _upload(
    client, engagement, content: bytes = PDF, name: str = "Letter 2025.pdf", **kw
):
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(_url(engagement, "letter/upload/"), {"letter": file}, **kw)


def _reload(engagement) -> Engagement:
    with tenant_context(engagement.organization):
        return Engagement.objects.get(pk=engagement.pk)


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _events(org, action) -> list[AuditEvent]:
    with platform_bypass():
        return list(AuditEvent.objects.filter(organization=org, action=action))


# The engagement page ---------------------------------------------------------------


def test_the_page_shows_facts_team_fee_and_the_client(
    cast, login_as, acme, make_engagement
):
    engagement = make_engagement(
        acme,
        "Monthly books",
        engagement_type="bookkeeping",
        fee_model="hourly",
        hourly_rate="150.00",
        budgeted_hours="12.50",
        preparer=cast.sam,
        reviewer=cast.alice,
    )

    response = login_as(cast.rita).get(_url(engagement))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Monthly books" in content
    assert "Bookkeeping" in content
    assert "150.00" in content and "12.50" in content
    assert "Sam Staff" in content and "Alice Owner" in content
    assert "Acme Corp" in content
    assert "No engagement letter yet." in content
    # Read-only members see the page but none of the write forms.
    assert "letter/upload/" not in content
    assert "/edit/" not in content


def test_the_page_lists_the_engagements_notes_but_not_others_private_ones(
    cast, login_as, acme, engagement
):
    with tenant_context(cast.alpha):
        for author, body, private in (
            (cast.alice, "Called the client", False),
            (cast.alice, "Alice's private thought", True),
            (cast.sam, "Sam's private thought", True),
        ):
            Note.objects.create(
                organization=cast.alpha,
                client=acme,
                engagement=engagement,
                author=author,
                body=body,
                is_private=private,
            )
        Note.objects.create(
            organization=cast.alpha, client=acme, author=cast.alice, body="On client"
        )

    content = login_as(cast.sam).get(_url(engagement)).content.decode()

    assert "Called the client" in content
    assert "Sam&#x27;s private thought" in content
    assert "Alice&#x27;s private thought" not in content
    assert "On client" not in content


def test_the_page_makes_the_same_number_of_queries_for_3_or_40_notes(
    cast, login_as, acme, engagement, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(_url(engagement))  # the first request also writes the session
    for count in (3, 37):
        with tenant_context(cast.alpha):
            Note.objects.bulk_create(
                Note(
                    organization=cast.alpha,
                    client=acme,
                    engagement=engagement,
                    author=cast.alice,
                    body=f"Note {i}",
                )
                for i in range(count)
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the engagement with its client and
        # people, 6 its notes with their authors, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(_url(engagement))
        assert response.status_code == 200
    assert response.content.count(b"Note ") >= 40


def test_assigned_only_staff_get_404_on_other_engagements_pages(
    cast, login_as, make_client, make_engagement, engagement
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    other = make_client(cast.alpha, "Other", partner=cast.alice)
    theirs = make_engagement(other, "Theirs", preparer=cast.alice)
    slot = make_engagement(other, "Sam reviews", reviewer=cast.sam)
    client = login_as(cast.sam)

    assert client.get(_url(engagement)).status_code == 200  # his client
    assert client.get(_url(slot)).status_code == 200  # his role slot
    for suffix in ("", "letter/", "edit/"):
        assert client.get(_url(theirs, suffix)).status_code == 404
    for suffix in ("letter/upload/", "letter/accept/"):
        assert client.post(_url(theirs, suffix)).status_code == 404


# Upload ------------------------------------------------------------------------------


def test_staff_upload_a_pdf_letter_to_the_private_path(
    cast, login_as, engagement, media_root
):
    response = _upload(login_as(cast.sam), engagement)

    saved = _reload(engagement)
    assert response.status_code == 302
    assert response.url == _url(engagement)
    assert saved.letter_filename == "Letter 2025.pdf"
    assert saved.letter.name == (
        f"private/{cast.alpha.pk}/engagement-letters/{engagement.uuid}.pdf"
    )
    assert (media_root / saved.letter.name).read_bytes() == PDF


def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_is_stored(
    cast, login_as, engagement, media_root
):
    client = login_as(cast.sam)

    response = _upload(client, engagement, b"MZ\x90\x00 not a pdf", "invoice.pdf")

    assert response.status_code == 302
    assert _reload(engagement).letter.name == ""
    assert _stored_files(media_root) == []
    page = client.get(response.url)
    assert "This file is not a PDF. Upload the engagement letter as a PDF." in (
        _messages(page)
    )


def test_a_file_over_20_mb_is_refused_and_nothing_is_stored(
    cast, login_as, engagement, media_root
):
    client = login_as(cast.sam)
    too_big = b"%PDF-1.7\n" + b"0" * (LETTER_MAX_BYTES - 8)

    response = _upload(client, engagement, too_big)

    assert _reload(engagement).letter.name == ""
    assert _stored_files(media_root) == []
    (message,) = _messages(client.get(response.url))
    assert message == (
        "The file is 20.0 MB; an engagement letter can be at most 20 MB."
    )


def test_a_missing_file_is_explained(cast, login_as, engagement):
    client = login_as(cast.sam)

    response = client.post(_url(engagement, "letter/upload/"))

    assert _messages(client.get(response.url)) == [
        "Choose the PDF of the engagement letter."
    ]


def test_a_new_letter_replaces_the_old_file_and_its_acceptance(
    cast, login_as, engagement, media_root, django_capture_on_commit_callbacks
):
    client = login_as(cast.sam)
    _upload(client, engagement)
    client.post(_url(engagement, "letter/accept/"), {"accepted_by_name": "Jo Acme"})
    first_file = _reload(engagement).letter.name

    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, engagement, PDF + b"% v2\n", "Letter v2.pdf")

    saved = _reload(engagement)
    assert saved.letter_filename == "Letter v2.pdf"
    assert saved.letter_accepted_at is None
    assert saved.letter_accepted_by_name == ""
    assert saved.letter.name != first_file
    assert _stored_files(media_root) == [media_root / saved.letter.name]


def test_read_only_members_cannot_upload(cast, login_as, engagement, media_root):
    response = _upload(login_as(cast.rita), engagement)

    assert response.status_code == 403
    assert _stored_files(media_root) == []


# Download ----------------------------------------------------------------------------


def test_a_member_downloads_the_letter_as_an_attachment_and_it_is_audited(
    cast, login_as, engagement
):
    _upload(login_as(cast.sam), engagement)
    client = login_as(cast.rita)

    response = client.get(_url(engagement, "letter/"), REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == ('attachment; filename="Letter 2025.pdf"')
    assert b"".join(response.streaming_content) == PDF
    (event,) = _events(cast.alpha, AuditAction.ENGAGEMENT_LETTER_DOWNLOADED)
    assert event.actor == cast.rita
    assert event.ip_address == "198.51.100.7"
    assert event.target == "2025 return (Acme Corp)"
    assert event.detail["engagement"] == str(engagement.uuid)


def test_the_page_links_to_the_download_view_never_to_the_file_store(
    cast, login_as, engagement
):
    client = login_as(cast.sam)
    _upload(client, engagement)

    content = client.get(_url(engagement)).content.decode()

    assert _url(engagement, "letter/") in content
    assert "engagement-letters" not in content
    assert "/media/" not in content


def test_another_firm_cannot_download_the_letter(cast, login_as, engagement):
    _upload(login_as(cast.sam), engagement)
    client = login_as(cast.oscar)

    assert client.get(_url(engagement, "letter/")).status_code == 404
    crossed = f"/o/beta/engagements/{engagement.uuid}/letter/"
    assert client.get(crossed).status_code == 404
    assert _events(cast.alpha, AuditAction.ENGAGEMENT_LETTER_DOWNLOADED) == []


def test_without_a_letter_the_download_link_returns_to_the_page(
    cast, login_as, engagement
):
    client = login_as(cast.sam)

    response = client.get(_url(engagement, "letter/"))

    assert response.status_code == 302
    assert response.url == _url(engagement)
    assert _events(cast.alpha, AuditAction.ENGAGEMENT_LETTER_DOWNLOADED) == []


# Acceptance --------------------------------------------------------------------------


def test_accepting_records_who_when_and_where_and_signals_after_commit(
    cast, login_as, engagement, django_capture_on_commit_callbacks
):
    client = login_as(cast.sam)
    _upload(client, engagement)
    received = []

    def receiver(sender, engagement, accepted_by, accepted_by_name, **kwargs):
        received.append((sender, engagement.pk, accepted_by, accepted_by_name))

    engagement_letter_accepted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(
                _url(engagement, "letter/accept/"),
                {"accepted_by_name": "  Jo Acme  "},
                REMOTE_ADDR="203.0.113.9",
            )
        assert received == []  # nothing is sent before the commit
        for callback in callbacks:
            callback()
    finally:
        engagement_letter_accepted.disconnect(receiver)

    saved = _reload(engagement)
    assert response.status_code == 302
    assert saved.letter_accepted_at is not None
    assert saved.letter_accepted_by_id == cast.sam.pk
    assert saved.letter_accepted_by_name == "Jo Acme"
    assert saved.letter_accepted_ip == "203.0.113.9"
    assert received == [(Engagement, engagement.pk, cast.sam, "Jo Acme")]
    (event,) = _events(cast.alpha, AuditAction.ENGAGEMENT_LETTER_ACCEPTED)
    assert (event.actor, event.ip_address) == (cast.sam, "203.0.113.9")
    assert event.detail["accepted_by_name"] == "Jo Acme"
    page = client.get(_url(engagement)).content.decode()
    assert "Signed by <strong>Jo Acme</strong>" in page


def test_accepting_is_refused_without_a_letter(cast, login_as, engagement):
    client = login_as(cast.sam)

    response = client.post(
        _url(engagement, "letter/accept/"), {"accepted_by_name": "Jo Acme"}
    )

    assert _reload(engagement).letter_accepted_at is None
    assert _messages(client.get(response.url)) == [
        "Upload the engagement letter before marking it accepted."
    ]


def test_accepting_needs_the_signers_name_and_happens_once(cast, login_as, engagement):
    client = login_as(cast.sam)
    _upload(client, engagement, follow=True)
    accept = _url(engagement, "letter/accept/")

    nameless = client.post(accept, {"accepted_by_name": " "}, follow=True)
    client.post(accept, {"accepted_by_name": "Jo Acme"}, follow=True)
    again = client.post(accept, {"accepted_by_name": "Someone Else"}, follow=True)

    assert _messages(nameless) == ["Type the name of the person who signed the letter."]
    assert _reload(engagement).letter_accepted_by_name == "Jo Acme"
    (message,) = _messages(again)
    assert message.startswith("This letter was already accepted on ")
    assert len(_events(cast.alpha, AuditAction.ENGAGEMENT_LETTER_ACCEPTED)) == 1


def test_read_only_members_cannot_accept(cast, login_as, engagement):
    _upload(login_as(cast.sam), engagement)

    response = login_as(cast.rita).post(
        _url(engagement, "letter/accept/"), {"accepted_by_name": "Jo Acme"}
    )

    assert response.status_code == 403
    assert _reload(engagement).letter_accepted_at is None
