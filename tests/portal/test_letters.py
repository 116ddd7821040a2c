"""Engagement letters in the portal: reading, signing (the exact bytes hashed,
a signed copy kept, the acceptance and its automation), the certificate, and
the signatures on the staff engagement page."""

from __future__ import annotations

import hashlib

import pypdfium2
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement, EngagementStatus, EngagementType
from clients.services.engagements import (
    engagement_letter_accept,
    engagement_letter_attach,
)
from documents.models import Document, DocumentCategory, DocumentSource
from portal.models import Activity, LetterSignature, PortalActivity, PortalGrant
from portal.services.letters import CONSENT_TEXT, letter_sign, signature_matches
from tests.documents.scans import text_layer_pdf
from tests.factories import make_template, start_workflow
from workflows.models import Task, TaskStatus

LETTER = text_layer_pdf(["Engagement letter 2025", "Terms: we prepare your 1040."])
NEW_LETTER = text_layer_pdf(["Engagement letter 2025", "Terms: revised fee."])
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


def make_engagement(client, name: str = "2025 tax return", **fields) -> Engagement:
    fields.setdefault("engagement_type", EngagementType.INDIVIDUAL_TAX)
    with tenant_context(client.organization):
        return Engagement.objects.create(
            organization=client.organization, client=client, name=name, **fields
        )


def attach(engagement: Engagement, content: bytes = LETTER) -> Engagement:
    """The letter uploaded by staff (the service the staff page calls)."""
    upload = SimpleUploadedFile("Letter 2025.pdf", content, "application/pdf")
    with tenant_context(engagement.organization):
        return engagement_letter_attach(engagement=engagement, upload=upload)


@pytest.fixture
def letter(pcast) -> Engagement:
    """Jane's 2025 engagement with its letter, waiting for a signature."""
    return attach(make_engagement(pcast.jane))


def url(engagement: Engagement, suffix: str = "") -> str:
    return f"/p/{engagement.organization.slug}/letters/{engagement.uuid}/{suffix}"


def reload(engagement: Engagement) -> Engagement:
    with tenant_context(engagement.organization):
        return Engagement.objects.get(pk=engagement.pk)


def signatures(engagement: Engagement) -> list[LetterSignature]:
    with tenant_context(engagement.organization):
        return list(
            LetterSignature.objects.filter(engagement=engagement)
            .select_related("engagement", "signed_copy")
            .order_by("signed_at")
        )


def sign(http, engagement: Engagement, **data):
    data = {"signed_name": "Joan Doe", "consent": "on", **data}
    return http.post(
        url(engagement, "sign/"),
        data,
        REMOTE_ADDR="203.0.113.5",
        HTTP_USER_AGENT=BROWSER,
    )


def set_grant(grant: PortalGrant, **capabilities) -> None:
    with tenant_context(grant.organization):
        PortalGrant.objects.filter(pk=grant.pk).update(**capabilities)


def activities(org, action: Activity) -> list[PortalActivity]:
    with tenant_context(org):
        return list(PortalActivity.objects.filter(action=action).order_by("pk"))


def text(response) -> str:
    return response.content.decode()


# Signing --------------------------------------------------------------------------


def test_signing_binds_the_name_to_the_exact_letter_and_completes_the_workflow(
    cast, pcast, joan_portal, letter, django_capture_on_commit_callbacks
):
    template = make_template(
        cast.alpha,
        "Onboarding",
        [
            ("Letter signed", {"completes_on": "letter_accepted"}),
            ("Kick-off call", {"after": ["Letter signed"]}),
        ],
    )
    execution = start_workflow(template, pcast.jane, engagement=letter)

    with django_capture_on_commit_callbacks(execute=True):
        response = sign(joan_portal, letter)

    assert response.status_code == 302
    assert response["Location"] == url(letter, "certificate/")
    (signature,) = signatures(letter)
    assert signature.letter_sha256 == hashlib.sha256(LETTER).hexdigest()
    assert signature.signed_name == "Joan Doe"
    assert signature.contact_id == pcast.joan.pk
    assert signature.consent_text == CONSENT_TEXT
    assert signature.ip_address == "203.0.113.5"
    assert signature.user_agent == BROWSER
    assert signature.letter_filename == "Letter 2025.pdf"
    assert signature_matches(signature)
    accepted = reload(letter)
    assert accepted.letter_accepted_at is not None
    assert accepted.letter_accepted_by is None
    assert accepted.letter_accepted_by_name == "Joan Doe"
    assert accepted.letter_accepted_ip == "203.0.113.5"
    with tenant_context(cast.alpha):
        tasks = {t.title: t for t in Task.objects.filter(execution=execution)}
    assert tasks["Letter signed"].status == TaskStatus.COMPLETED
    assert tasks["Kick-off call"].status == TaskStatus.READY
    (signed,) = activities(cast.alpha, Activity.LETTER_SIGNED)
    assert signed.contact_id == pcast.joan.pk
    assert signed.detail["sha256"] == signature.letter_sha256
    assert signed.ip_address == "203.0.113.5"


def test_the_signed_copy_is_the_letter_with_a_signature_page_shared_with_the_client(
    pcast, joan_portal, letter
):
    sign(joan_portal, letter)

    (signature,) = signatures(letter)
    copy = signature.signed_copy
    assert copy.client_id == pcast.jane.pk
    assert copy.engagement_id == letter.pk
    assert copy.visible_to_client
    assert copy.category == DocumentCategory.ENGAGEMENT_LETTER
    assert copy.source == DocumentSource.PORTAL
    assert copy.uploaded_by_contact_id == pcast.joan.pk
    assert copy.title.startswith("Engagement letter – 2025 tax return – signed ")
    assert copy.title.endswith(" by Joan Doe")
    with copy.file.open("rb") as stored:
        data = stored.read()
    # The letter's own bytes first, untouched; the signature page after them.
    assert data.startswith(LETTER) and len(data) > len(LETTER)
    assert b"Electronic signature" not in LETTER
    shared = joan_portal.get("/p/alpha/documents/")
    assert [d.pk for d in shared.context["page"].rows] == [copy.pk]
    download = joan_portal.get(f"/p/alpha/documents/{copy.uuid}/download/")
    assert b"".join(download.streaming_content) == data


def test_the_signature_page_names_the_signer_and_the_letters_hash(
    pcast, joan_portal, letter
):
    sign(joan_portal, letter)

    (signature,) = signatures(letter)
    with signature.signed_copy.file.open("rb") as stored:
        pdf = pypdfium2.PdfDocument(stored.read())
    page = pdf[len(pdf) - 1].get_textpage().get_text_range()
    assert "Electronic signature" in page
    assert "Signed by: Joan Doe" in page
    assert signature.letter_sha256 in page
    assert "203.0.113.5" in page


def test_a_second_signature_is_refused(pcast, joan_portal, letter):
    sign(joan_portal, letter)

    again = sign(joan_portal, letter, signed_name="Joan Q. Doe")

    assert again.status_code == 302
    assert again["Location"] == url(letter)
    assert len(signatures(letter)) == 1
    assert reload(letter).letter_accepted_by_name == "Joan Doe"
    with tenant_context(letter.organization):
        with pytest.raises(ValidationError, match="already signed"):
            letter_sign(
                engagement=letter,
                contact=pcast.joan,
                signed_name="Joan Doe",
                consent=True,
                request=RequestFactory().post("/"),
            )
        assert Document.objects.filter(engagement=letter).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"consent": ""}, "Tick the box to agree to the letter and to sign it."),
        ({"signed_name": "   "}, "Type your full name to sign."),
    ],
)
def test_a_signature_needs_the_name_and_the_consent(
    pcast, joan_portal, letter, data, message
):
    response = sign(joan_portal, letter, **data)

    assert response.status_code == 400
    assert message in text(response)
    assert signatures(letter) == []
    assert reload(letter).letter_accepted_at is None
    with tenant_context(letter.organization):
        assert not Document.objects.filter(engagement=letter).exists()


def test_the_service_refuses_a_missing_consent_too(pcast, letter):
    with tenant_context(letter.organization):
        with pytest.raises(ValidationError) as refused:
            letter_sign(
                engagement=letter,
                contact=pcast.joan,
                signed_name="",
                consent=False,
                request=None,
            )
    assert set(refused.value.message_dict) == {"signed_name", "consent"}


def test_a_letter_replaced_while_the_client_reads_it_is_not_signed(
    pcast, joan_portal, letter
):
    page = joan_portal.get(url(letter))
    shown = page.context["form"].initial["letter_sha256"]
    attach(reload(letter), NEW_LETTER)

    response = sign(joan_portal, letter, letter_sha256=shown)

    assert response.status_code == 400
    assert "replaced this letter while you were reading it" in text(response)
    assert signatures(letter) == []


def test_a_closed_engagements_letter_cannot_be_signed(pcast, joan_portal, letter):
    with tenant_context(letter.organization):
        Engagement.objects.filter(pk=letter.pk).update(
            status=EngagementStatus.CANCELLED
        )

    page = joan_portal.get(url(letter))
    response = sign(joan_portal, letter)

    assert "can no longer be signed" in text(page)
    assert "sign-form" not in text(page)
    assert response.status_code == 400
    assert signatures(letter) == []


# Who may read and sign --------------------------------------------------------------


def test_a_contact_without_signing_rights_gets_404(pcast, joan_portal, letter):
    set_grant(pcast.joan_grant, can_sign=False)

    for suffix in ("", "file/", "certificate/"):
        assert joan_portal.get(url(letter, suffix)).status_code == 404
    assert sign(joan_portal, letter).status_code == 404
    assert reload(letter).letter_accepted_at is None


@pytest.mark.parametrize("whose", ["acme", "beta"])
def test_another_clients_letter_answers_404(pcast, joan_portal, whose):
    client = pcast.acme if whose == "acme" else pcast.bruno_client
    theirs = attach(make_engagement(client))

    for suffix in ("", "file/", "certificate/"):
        response = joan_portal.get(f"/p/alpha/letters/{theirs.uuid}/{suffix}")
        assert response.status_code == 404, suffix
    response = joan_portal.post(
        f"/p/alpha/letters/{theirs.uuid}/sign/",
        {"signed_name": "Joan Doe", "consent": "on"},
    )
    assert response.status_code == 404
    assert reload(theirs).letter_accepted_at is None


# Reading ----------------------------------------------------------------------------


def test_the_letter_page_offers_the_letter_and_the_sign_form(
    pcast, joan_portal, letter
):
    response = joan_portal.get(url(letter))

    assert response.status_code == 200
    content = text(response)
    assert "2025 tax return" in content
    assert f'href="{url(letter, "file/")}"' in content  # the link phones use
    assert f'src="{url(letter, "file/")}"' in content  # the frame on wide screens
    assert CONSENT_TEXT in content
    assert 'autocomplete="name"' in content
    assert response.context["form"].initial["letter_sha256"] == (
        hashlib.sha256(LETTER).hexdigest()
    )


def test_the_letter_file_may_be_framed_by_this_site_only_and_is_recorded(
    cast, pcast, joan_portal, letter
):
    response = joan_portal.get(url(letter, "file/"), REMOTE_ADDR="198.51.100.8")
    page = joan_portal.get(url(letter))

    assert b"".join(response.streaming_content) == LETTER
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    # Every other page keeps the no-framing rule.
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    (viewed,) = activities(cast.alpha, Activity.LETTER_VIEWED)
    assert viewed.contact_id == pcast.joan.pk
    assert viewed.ip_address == "198.51.100.8"


# The list -------------------------------------------------------------------------


def test_the_list_shows_letters_to_sign_and_signed_ones(pcast, joan_portal, letter):
    signed = attach(make_engagement(pcast.jane, "2024 tax return"))
    sign(joan_portal, signed)
    paper = attach(make_engagement(pcast.jane, "Bookkeeping"))
    with tenant_context(paper.organization):
        engagement_letter_accept(
            engagement=paper,
            accepted_by=None,
            accepted_by_name="Jane Doe",
            ip_address=None,
        )
    make_engagement(pcast.jane, "No letter yet")
    closed = attach(make_engagement(pcast.jane, "Cancelled work"))
    with tenant_context(closed.organization):
        Engagement.objects.filter(pk=closed.pk).update(
            status=EngagementStatus.CANCELLED
        )
    attach(make_engagement(pcast.acme, "Acme audit"))

    response = joan_portal.get("/p/alpha/letters/")

    assert [e.name for e in response.context["to_sign"]] == ["2025 tax return"]
    assert [e.name for e in response.context["signed"]] == [
        "Bookkeeping",
        "2024 tax return",
    ]
    content = text(response)
    assert url(signed, "certificate/") in content
    assert url(paper, "certificate/") not in content
    assert "Acme audit" not in content
    assert "Cancelled work" not in content


def test_an_empty_list_says_there_is_nothing_to_sign(pcast, joan_portal):
    response = joan_portal.get("/p/alpha/letters/")

    assert response.status_code == 200
    assert "Nothing to sign right now." in text(response)


def test_the_list_makes_the_same_queries_for_2_or_10_letters(
    pcast, joan_portal, django_assert_num_queries
):
    joan_portal.get("/p/alpha/letters/")  # the first request writes the session
    for count in (1, 4):
        for n in range(count):
            attach(make_engagement(pcast.jane, f"To sign {count}-{n}"))
            signed = attach(make_engagement(pcast.jane, f"Signed {count}-{n}"))
            sign(joan_portal, signed)
        # 1 the session, 2 the firm with its RLS context (one round trip), 3 the
        # portal account, 4 its grants, 5 the letters to sign, 6 the signed ones,
        # 7 which of those have a certificate, 8 the RLS context reset.
        with django_assert_num_queries(8):
            response = joan_portal.get("/p/alpha/letters/")
        assert response.status_code == 200
    assert len(response.context["to_sign"]) == 5
    assert len(response.context["signed"]) == 5


# The certificate, and a letter replaced after signing -------------------------------


def test_the_certificate_shows_the_signature_and_that_the_letter_is_unchanged(
    pcast, joan_portal, letter
):
    sign(joan_portal, letter)

    response = joan_portal.get(url(letter, "certificate/"))

    assert response.status_code == 200
    content = text(response)
    (signature,) = signatures(letter)
    assert "Joan Doe" in content
    assert signature.letter_sha256 in content
    assert "203.0.113.5" in content
    assert BROWSER in content
    assert CONSENT_TEXT in content
    assert "The letter on file is the one signed." in content
    assert f"/p/alpha/documents/{signature.signed_copy.uuid}/" in content


def test_a_letter_replaced_after_signing_is_to_sign_again(pcast, joan_portal, letter):
    sign(joan_portal, letter)

    attach(reload(letter), NEW_LETTER)

    (signature,) = signatures(letter)
    assert not signature_matches(signature)
    certificate = text(joan_portal.get(url(letter, "certificate/")))
    assert "The letter was changed after signing" in certificate
    page = joan_portal.get(url(letter))
    assert "replaced the letter after it was signed" in text(page)
    assert [e.pk for e in joan_portal.get("/p/alpha/letters/").context["to_sign"]] == [
        letter.pk
    ]
    # Signed again, the new signature matches and the old one still does not.
    sign(joan_portal, letter)
    old, new = signatures(letter)
    assert (signature_matches(old), signature_matches(new)) == (False, True)
    assert new.letter_sha256 == hashlib.sha256(NEW_LETTER).hexdigest()


def test_there_is_no_certificate_before_a_signature(pcast, joan_portal, letter):
    assert joan_portal.get(url(letter, "certificate/")).status_code == 404


# The staff engagement page ---------------------------------------------------------


def staff_url(engagement: Engagement) -> str:
    return f"/o/alpha/engagements/{engagement.uuid}/"


def test_the_staff_engagement_page_shows_the_portal_signatures(
    cast, pcast, joan_portal, letter, login_as
):
    sign(joan_portal, letter)
    (signature,) = signatures(letter)

    content = text(login_as(cast.sam).get(staff_url(letter)))

    assert 'data-testid="letter-signatures"' in content
    assert "Signed in the portal by <strong>Joan Doe</strong>" in content
    assert signature.letter_sha256 in content
    assert "203.0.113.5" in content
    assert "Matches the letter on file" in content
    assert f"/o/alpha/documents/{signature.signed_copy.uuid}/" in content
    assert "Record a paper signature" not in content  # it is signed


def test_the_staff_page_says_when_the_letter_changed_after_signing(
    cast, pcast, joan_portal, letter, login_as
):
    sign(joan_portal, letter)
    attach(reload(letter), NEW_LETTER)

    content = text(login_as(cast.sam).get(staff_url(letter)))

    assert "Letter changed after signing" in content
    assert "Record a paper signature" in content  # the new letter is unsigned


def test_a_paper_signature_says_who_recorded_it(cast, letter, login_as):
    response = login_as(cast.sam).post(
        staff_url(letter) + "letter/accept/", {"accepted_by_name": "Jane Doe"}
    )
    content = text(login_as(cast.sam).get(staff_url(letter)))

    assert response.status_code == 302
    assert (
        "Paper signature recorded by Sam Staff. Signed by <strong>Jane Doe" in content
    )
    assert "Not signed in the client portal." in content


def test_the_panel_makes_one_query_for_1_or_4_signatures(
    cast, pcast, letter, login_as, django_assert_num_queries
):
    http = login_as(cast.sam)
    http.get(staff_url(letter))  # the first request writes the session
    for count in (1, 3):
        with tenant_context(cast.alpha):
            LetterSignature.objects.bulk_create(
                LetterSignature(
                    organization=cast.alpha,
                    engagement=letter,
                    contact=pcast.joan,
                    signed_name=f"Joan {count}-{n}",
                    consent_text=CONSENT_TEXT,
                    signed_at=letter.created_at,
                    letter_sha256="0" * 64,
                    letter_filename="Letter 2025.pdf",
                    letter_name=letter.letter.name,
                )
                for n in range(count)
            )
        # The engagement page's 7 (tests/clients/test_engagement_letters.py)
        # and 8 the portal panel's signatures with their signed copies.
        with django_assert_num_queries(8):
            response = http.get(staff_url(letter))
        assert response.status_code == 200
    assert text(response).count("Letter changed after signing") == 4
