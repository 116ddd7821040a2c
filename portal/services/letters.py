"""Signing an engagement letter in the portal, and checking a signature later.

A signature binds a typed name and a consent statement to the exact bytes of the
letter on file at that moment: their SHA-256 is kept on the `LetterSignature`,
and a copy of the letter with a signature page added after its last page (an
incremental PDF update, so the letter's own bytes stay untouched at the start of
the copy) is kept on the client's documents, shared with the client.

Staff may replace a letter later (`engagement_letter_attach`), which clears the
acceptance: the new letter is to sign again, and the earlier signature no longer
matches the letter on file (`signature_matches`).
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import os
import textwrap
import zoneinfo
from datetime import datetime

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from advisoros.http import client_ip
from clients.models import CLOSED_ENGAGEMENT_STATUSES, Contact, Engagement
from clients.services.engagements import engagement_letter_accept
from documents.models import DocumentCategory, DocumentSource
from documents.services.documents import document_create
from documents.storage import document_file_delete
from documents.upload import UploadRejected
from portal.activity import portal_activity_record
from portal.models import Activity, LetterSignature

logger = logging.getLogger(__name__)

# Shown beside the checkbox and stored verbatim on each signature.
CONSENT_TEXT = (
    "I have read this engagement letter and I agree to its terms. I intend my "
    "typed name to be my electronic signature, with the same effect as a "
    "handwritten one."
)
NAME_REQUIRED = "Type your full name to sign."
CONSENT_REQUIRED = "Tick the box to agree to the letter and to sign it."


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _letter_bytes(engagement: Engagement) -> bytes:
    """The letter as stored now (FileNotFoundError when its file is missing)."""
    with engagement.letter.storage.open(engagement.letter.name, "rb") as handle:
        return handle.read()


def letter_sha256(engagement: Engagement) -> str | None:
    """SHA-256 of the engagement's letter as stored now; None when there is no
    letter or its file is missing."""
    if not engagement.letter:
        return None
    try:
        return _sha256(_letter_bytes(engagement))
    except FileNotFoundError:
        return None


def signature_matches(signature: LetterSignature) -> bool:
    """Whether the letter on file is still, byte for byte, the one signed."""
    return letter_sha256(signature.engagement) == signature.letter_sha256


def _refuse_unless_signable(engagement: Engagement) -> None:
    if not engagement.letter:
        raise ValidationError("There is no engagement letter to sign.")
    if engagement.letter_accepted_at is not None:
        raise ValidationError(
            "This letter is already signed (on "
            f"{engagement.letter_accepted_at:%b %d, %Y}). Nothing more is needed."
        )
    if engagement.status in CLOSED_ENGAGEMENT_STATUSES:
        raise ValidationError(
            "This engagement is closed: its letter can no longer be signed."
        )


@transaction.atomic
def _sign(
    *,
    engagement: Engagement,
    contact: Contact,
    signed_name: str,
    consent: bool,
    request: HttpRequest | None,
    expected_sha256: str | None,
    stored: list[str],
) -> LetterSignature:
    # Locked: two clicks (or two contacts) sign once; the second sees it signed.
    locked = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("client", "organization")
        .get(pk=engagement.pk)
    )
    _refuse_unless_signable(locked)
    name = " ".join((signed_name or "").split())[:200]
    errors = {}
    if not name:
        errors["signed_name"] = NAME_REQUIRED
    if not consent:
        errors["consent"] = CONSENT_REQUIRED
    if errors:
        raise ValidationError(errors)
    try:
        letter = _letter_bytes(locked)
    except FileNotFoundError as exc:
        logger.error("Engagement %s: letter file missing", locked.pk)
        raise ValidationError(
            "The letter cannot be opened right now. Please contact the firm."
        ) from exc
    sha256 = _sha256(letter)
    if expected_sha256 is not None and expected_sha256 != sha256:
        raise ValidationError(
            "The firm replaced this letter while you were reading it. Please read "
            "the new letter, then sign it."
        )
    now = timezone.now()
    ip = client_ip(request) if request is not None else None
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""
    signature = LetterSignature(
        organization_id=locked.organization_id,
        engagement=locked,
        contact=contact,
        signed_name=name,
        consent_text=CONSENT_TEXT,
        signed_at=now,
        ip_address=ip,
        user_agent=agent,
        letter_sha256=sha256,
        letter_filename=locked.letter_filename or "engagement-letter.pdf",
        letter_name=locked.letter.name,
    )
    firm_now = timezone.localtime(now, zoneinfo.ZoneInfo(locked.organization.timezone))
    copy = _signed_copy(letter, signature, contact=contact, firm_now=firm_now)
    stem = os.path.splitext(signature.letter_filename)[0] or "engagement-letter"
    try:
        document = document_create(
            client=locked.client,
            file=ContentFile(copy),
            filename=f"{stem} (signed).pdf",
            uploaded_by_contact=contact,
            source=DocumentSource.PORTAL,
            title=(
                f"Engagement letter – {locked.name} – signed "
                f"{firm_now:%b %d, %Y} by {name}"
            ),
            category=DocumentCategory.ENGAGEMENT_LETTER,
            tax_year=locked.tax_year,
            engagement=locked,
            visible_to_client=True,
        )
    except UploadRejected as exc:
        logger.error("Engagement %s: signed copy refused: %s", locked.pk, exc)
        raise ValidationError(
            "The signed copy of this letter could not be kept, so it was not "
            "signed. Please contact the firm."
        ) from exc
    stored.append(document.file.name)
    signature.signed_copy = document
    signature.save()
    engagement_letter_accept(
        engagement=locked,
        accepted_by=None,
        accepted_by_name=name,
        ip_address=ip,
        request=request,
    )
    portal_activity_record(
        organization_id=locked.organization_id,
        action=Activity.LETTER_SIGNED,
        request=request,
        contact=contact,
        client=locked.client,
        summary=f"Signed the engagement letter “{locked.name}” as {name}",
        detail={
            "engagement": str(locked.uuid),
            "signature": str(signature.uuid),
            "sha256": sha256,
            "signed_copy": str(document.uuid),
        },
    )
    return signature


def letter_sign(
    *,
    engagement: Engagement,
    contact: Contact,
    signed_name: str,
    consent: bool,
    request: HttpRequest | None,
    expected_sha256: str | None = None,
) -> LetterSignature:
    """Sign the engagement's letter as `contact`, in one transaction: the
    signature with the letter's SHA-256, a signed copy on the client's
    documents, the engagement's acceptance (its signal completes the workflow
    steps waiting for it, after commit) and the portal activity.

    `expected_sha256` is the letter the contact was shown: a letter replaced
    since is refused rather than signed unread. Raises ValidationError.
    """
    stored: list[str] = []
    try:
        return _sign(
            engagement=engagement,
            contact=contact,
            signed_name=signed_name,
            consent=consent,
            request=request,
            expected_sha256=expected_sha256,
            stored=stored,
        )
    except BaseException:
        # The copy's file was stored before the rows that rolled back.
        for name in stored:
            document_file_delete(name)
        raise


# The signed copy -----------------------------------------------------------------


def _signature_page_lines(
    signature: LetterSignature, *, contact: Contact, firm_now: datetime, size: int
) -> list[tuple[float, str]]:
    engagement = signature.engagement
    when_utc = signature.signed_at.astimezone(zoneinfo.ZoneInfo("UTC"))
    facts = [
        ("Engagement", f"{engagement.name} ({engagement.client.display_name})"),
        ("Signed by", signature.signed_name),
        ("Portal contact", f"{contact.full_name} <{contact.email}>"),
        (
            "Signed at",
            f"{firm_now:%B %d, %Y %H:%M:%S %Z} ({when_utc:%Y-%m-%d %H:%M:%S} UTC)",
        ),
        ("IP address", signature.ip_address or "unknown"),
        ("Browser", signature.user_agent or "unknown"),
        ("Letter", signature.letter_filename),
        ("SHA-256", signature.letter_sha256),
        (
            "The letter",
            f"The first {size:,} bytes of this file are the letter signed, byte "
            "for byte; their SHA-256 is the one above.",
        ),
        ("Consent", f"“{signature.consent_text}”"),
    ]
    lines: list[tuple[float, str]] = [(16, "Electronic signature"), (10, "")]
    for label, value in facts:
        wrapped = textwrap.wrap(f"{label}: {value}", width=92) or [""]
        lines += [(10, part) for part in wrapped]
        lines.append((5, ""))
    lines.append(
        (
            9,
            f"Recorded by {engagement.organization.name} in its AdvisorOS client "
            "portal.",
        )
    )
    return lines


def _signed_copy(
    letter: bytes, signature: LetterSignature, *, contact: Contact, firm_now: datetime
) -> bytes:
    """The letter with a signature page appended as an incremental update (the
    letter's bytes unchanged at the start); the letter alone when PDFium cannot
    read it (the signature record still holds every fact)."""
    try:
        pdf = pdfium.PdfDocument(letter)
    except pdfium.PdfiumError:
        logger.warning(
            "Engagement %s: letter unreadable by PDFium", signature.engagement_id
        )
        return letter
    try:
        width, height = pdf.get_page_size(0) if len(pdf) else (612, 792)
        page = pdf.new_page(width, height)
        y = height - 72
        for size, text in _signature_page_lines(
            signature, contact=contact, firm_now=firm_now, size=len(letter)
        ):
            if text:
                _add_text(pdf, page, text, size=size, x=72, y=y)
            y -= size * 1.5
        page.gen_content()
        out = io.BytesIO()
        pdf.save(out, flags=pdfium_raw.FPDF_INCREMENTAL)
        page.close()
    finally:
        pdf.close()
    data = out.getvalue()
    return data if data.startswith(letter) else letter


def _add_text(pdf, page, text: str, *, size: float, x: float, y: float) -> None:
    obj = pdfium_raw.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(size))
    buffer = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
    pdfium_raw.FPDFText_SetText(
        obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_raw.FPDF_WCHAR))
    )
    pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
    pdfium_raw.FPDFPage_InsertObject(page.raw, obj)
