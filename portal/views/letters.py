"""Engagement letters in the portal: the list, reading one, signing it, and the
certificate of a signature.

A contact reaches the letters of the clients whose grant lets them sign
(portal.selectors.letter_engagements); anything else answers 404. The letter's
file is served through `letter_file` only, framed by the letter page of this
site and nowhere else.
"""

from __future__ import annotations

import logging
import zoneinfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from advisoros.forms import add_service_errors
from advisoros.http import get_only
from clients.models import CLOSED_ENGAGEMENT_STATUSES, Engagement
from portal.activity import portal_activity_record
from portal.decorators import portal_login_required
from portal.models import Activity, Capability, LetterSignature
from portal.selectors import letter_engagements, letters_to_sign, signed_letters
from portal.services import letters as services
from portal.session import PortalSession

logger = logging.getLogger(__name__)


class LetterSignForm(forms.Form):
    signed_name = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": services.NAME_REQUIRED},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    consent = forms.BooleanField(
        label=services.CONSENT_TEXT,
        error_messages={"required": services.CONSENT_REQUIRED},
    )
    # The letter the contact was shown: a letter replaced since is not signed.
    letter_sha256 = forms.CharField(
        max_length=64, required=False, widget=forms.HiddenInput
    )


def _get_engagement(portal: PortalSession, engagement_uuid) -> Engagement:
    return get_object_or_404(letter_engagements(portal), uuid=engagement_uuid)


def _firm_time(portal: PortalSession):
    return timezone.override(zoneinfo.ZoneInfo(portal.organization.timezone))


@portal_login_required
def letter_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    portal = request.portal
    if not_allowed := get_only(request):
        return not_allowed
    # Query: letters waiting for a signature, with their clients.
    to_sign = list(letters_to_sign(portal))
    # Query: signed letters, the latest first, with their clients.
    signed = list(signed_letters(portal))
    # Query: which of those were signed here (they have a certificate).
    certified = (
        set(
            LetterSignature.objects.filter(
                organization=portal.organization,
                engagement_id__in=[e.pk for e in signed],
            ).values_list("engagement_id", flat=True)
        )
        if signed
        else set()
    )
    for engagement in signed:
        engagement.has_certificate = engagement.pk in certified
    ctx = {
        "portal": portal,
        "portal_section": "letters",
        "to_sign": to_sign,
        "signed": signed,
        "can_sign": bool(portal.client_ids(Capability.SIGN)),
        "show_client": len(portal.clients(Capability.SIGN)) > 1,
    }
    with _firm_time(portal):
        return render(request, "portal/letters.html", ctx)


@portal_login_required
def letter_detail(request: HttpRequest, org_slug: str, engagement_uuid) -> HttpResponse:
    portal = request.portal
    # Query: the engagement with its client.
    engagement = _get_engagement(portal, engagement_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    return _letter_page(request, portal, engagement, LetterSignForm())


def _letter_page(
    request: HttpRequest,
    portal: PortalSession,
    engagement: Engagement,
    form: LetterSignForm,
    *,
    status: int = 200,
) -> HttpResponse:
    signable = (
        not engagement.letter_accepted
        and engagement.status not in CLOSED_ENGAGEMENT_STATUSES
    )
    if signable and not form.is_bound:
        # The letter shown is the letter signed (read once, hashed).
        form = LetterSignForm(
            initial={"letter_sha256": services.letter_sha256(engagement) or ""}
        )
    ctx = {
        "portal": portal,
        "portal_section": "letters",
        "engagement": engagement,
        "form": form,
        "signable": signable,
        # Query: the latest signature of this engagement's letters, if any.
        "latest_signature": (
            LetterSignature.objects.filter(
                organization=portal.organization, engagement=engagement
            )
            .order_by("-signed_at", "-id")
            .first()
        ),
    }
    with _firm_time(portal):
        return render(request, "portal/letter_detail.html", ctx, status=status)


@xframe_options_sameorigin
@csp_override(
    {
        "default-src": [CSP.NONE],
        "object-src": [CSP.SELF],
        "frame-ancestors": [CSP.SELF],
    }
)
@portal_login_required
def letter_file(request: HttpRequest, org_slug: str, engagement_uuid) -> HttpResponse:
    """The letter itself, inline: the letter page frames it (this site only, so
    this response alone lifts the no-framing rule to same-origin)."""
    portal = request.portal
    engagement = _get_engagement(portal, engagement_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    try:
        handle = engagement.letter.storage.open(engagement.letter.name, "rb")
    except FileNotFoundError as exc:
        logger.error("Engagement %s: letter file missing", engagement.pk)
        raise Http404("The letter's file is missing.") from exc
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=Activity.LETTER_VIEWED,
        request=request,
        contact=portal.contact,
        client=engagement.client,
        summary=f"Opened the engagement letter “{engagement.name}”",
        detail={
            "engagement": str(engagement.uuid),
            "filename": engagement.letter_filename,
        },
    )
    response = FileResponse(
        handle,
        as_attachment=False,
        filename=engagement.letter_filename or "engagement-letter.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_login_required
@require_POST
def letter_sign(request: HttpRequest, org_slug: str, engagement_uuid) -> HttpResponse:
    portal = request.portal
    engagement = _get_engagement(portal, engagement_uuid)
    form = LetterSignForm(request.POST)
    if form.is_valid():
        try:
            services.letter_sign(
                engagement=engagement,
                contact=portal.contact,
                signed_name=form.cleaned_data["signed_name"],
                consent=form.cleaned_data["consent"],
                request=request,
                expected_sha256=form.cleaned_data["letter_sha256"] or None,
            )
        except ValidationError as exc:
            engagement.refresh_from_db()
            if engagement.letter_accepted:
                # A second click, or another contact was first: it is signed.
                messages.info(request, " ".join(exc.messages))
                return _to_letter(portal, engagement)
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Thank you: the letter is signed. This page is your record of the "
                "signature; a signed copy is in your shared documents.",
            )
            return redirect(
                "portal:letter_certificate",
                org_slug=portal.organization.slug,
                engagement_uuid=engagement.uuid,
            )
    return _letter_page(request, portal, engagement, form, status=400)


def _to_letter(portal: PortalSession, engagement: Engagement) -> HttpResponse:
    return redirect(
        "portal:letter_detail",
        org_slug=portal.organization.slug,
        engagement_uuid=engagement.uuid,
    )


@portal_login_required
def letter_certificate(
    request: HttpRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    portal = request.portal
    # Query: the engagement with its client.
    engagement = _get_engagement(portal, engagement_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    # Query: every signature of this engagement's letters, with its signed copy.
    signatures = list(
        LetterSignature.objects.filter(
            organization=portal.organization, engagement=engagement
        )
        .select_related("signed_copy")
        .order_by("-signed_at", "-id")
    )
    if not signatures:
        raise Http404("This letter was not signed in the portal.")
    on_file = services.letter_sha256(engagement)  # the letter read once
    sees_documents = (
        portal.grant_for(engagement.client_id, Capability.VIEW_DOCUMENTS) is not None
    )
    for signature in signatures:
        signature.matches = signature.letter_sha256 == on_file
        copy = signature.signed_copy
        signature.copy_shared = (
            sees_documents
            and copy is not None
            and copy.visible_to_client
            and copy.archived_at is None
        )
    ctx = {
        "portal": portal,
        "portal_section": "letters",
        "engagement": engagement,
        "signatures": signatures,
    }
    with _firm_time(portal):
        return render(request, "portal/letter_certificate.html", ctx)
