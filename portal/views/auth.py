"""Ways into the portal: password, emailed code, authenticator app, an invitation,
and a request link (GET shows "Continue"; only the POST redeems it)."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.http import client_ip
from portal.activity import portal_activity_record
from portal.decorators import portal_login_required
from portal.models import Activity, PortalAccount
from portal.services import signin
from portal.services.access import (
    INVITATION_REFUSALS,
    portal_invitation_check,
    portal_invitation_redeem,
)
from portal.services.links import (
    REFUSALS,
    link_attempt_allowed,
    request_link_check,
    request_link_redeem,
)
from portal.session import (
    PORTAL_KEY,
    portal_mark_verified,
    portal_remember_link,
    portal_sign_in,
    portal_sign_out,
)

CODE_EMAIL_KEY = "portal_code_email"


def _home(request: HttpRequest) -> str:
    return reverse("portal:home", kwargs={"org_slug": request.portal.organization.slug})


def _firm(request: HttpRequest):
    if request.portal is None:
        raise Http404("No such firm.")
    return request.portal.organization


def _finish_sign_in(
    request: HttpRequest, account: PortalAccount, contact, how: str
) -> HttpResponse:
    organization = request.portal.organization
    second = account.has_two_factor or organization.portal_require_two_factor
    portal_sign_in(request, account)
    signin.clear_failures(account.email, client_ip(request))
    signin.account_signed_in(account)
    portal_activity_record(
        organization_id=organization.pk,
        action=Activity.SIGNED_IN,
        request=request,
        contact=contact,
        summary=f"Signed in with {how}",
        detail={"method": how, "second_factor_pending": second},
    )
    if not second:
        return redirect(_home(request))
    slug = organization.slug
    if account.has_two_factor:
        return redirect("portal:two_factor", org_slug=slug)
    return redirect("portal:two_factor_setup", org_slug=slug)


def _refuse_sign_in(request: HttpRequest, email: str, why: str) -> bool:
    """Record a failed attempt; True when the pair is now locked out."""
    organization = request.portal.organization
    locked = signin.note_failure(email, client_ip(request))
    portal_activity_record(
        organization_id=organization.pk,
        action=Activity.LOCKED_OUT if locked else Activity.SIGN_IN_FAILED,
        request=request,
        email=signin.normalize(email),
        summary=why,
    )
    return locked


def _locked_page(request: HttpRequest) -> HttpResponse:
    minutes = int(signin.settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "portal/locked_out.html",
        {"minutes": minutes},
        status=429,
    )


@never_cache
@sensitive_post_parameters("password")
def sign_in(request: HttpRequest, org_slug: str) -> HttpResponse:
    _firm(request)
    if request.portal.signed_in:
        return redirect(_home(request))
    if request.portal.account is not None and request.portal.needs_second_factor:
        return redirect("portal:two_factor", org_slug=org_slug)
    email = ""
    error = ""
    if request.method == "POST":
        email = signin.normalize(request.POST.get("email", ""))
        password = request.POST.get("password", "")
        ip = client_ip(request)
        if not email or not password:
            error = "Enter your email address and your password."
        elif signin.is_locked_out(email, ip):
            _refuse_sign_in(request, email, "Sign-in while locked out")
            return _locked_page(request)
        else:
            account = signin.account_for_email(email)
            matches = signin.password_matches(account, password)
            contact = (
                signin.contact_in_firm(account, request.portal.organization)
                if matches
                else None
            )
            if contact is not None:
                return _finish_sign_in(request, account, contact, "password")
            if _refuse_sign_in(request, email, "Wrong email or password"):
                return _locked_page(request)
            error = (
                "That email and password do not match an account with access to "
                "this portal. Try again, or have a sign-in code emailed to you."
            )
    if request.portal.timed_out and request.method == "GET":
        messages.info(request, "You were signed out after a while without activity.")
    return render(
        request,
        "portal/sign_in.html",
        {"email": email, "error": error},
        status=400 if error else 200,
    )


@never_cache
def code_request(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = _firm(request)
    if request.method != "POST":
        return render(request, "portal/code_request.html", {})
    email = signin.normalize(request.POST.get("email", ""))
    if "@" not in email:
        return render(
            request,
            "portal/code_request.html",
            {"email": email, "error": "Enter the email address the firm has for you."},
            status=400,
        )
    account = signin.account_for_email(email)
    contact = signin.contact_in_firm(account, organization) if account else None
    if contact is None:
        # The same answer as for a client, without an email: nobody learns who is one.
        portal_activity_record(
            organization_id=organization.pk,
            action=Activity.SIGN_IN_FAILED,
            request=request,
            email=email,
            summary="Code asked for an address without portal access",
        )
    elif signin.code_send(account=account, organization=organization, contact=contact):
        portal_activity_record(
            organization_id=organization.pk,
            action=Activity.CODE_SENT,
            request=request,
            contact=contact,
            summary="Sign-in code emailed",
        )
    request.session[CODE_EMAIL_KEY] = email
    return redirect("portal:code_verify", org_slug=org_slug)


@never_cache
@sensitive_post_parameters("code")
def code_verify(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = _firm(request)
    email = request.session.get(CODE_EMAIL_KEY, "")
    if not email:
        return redirect("portal:code_request", org_slug=org_slug)
    error = ""
    if request.method == "POST":
        ip = client_ip(request)
        if signin.is_locked_out(email, ip):
            _refuse_sign_in(request, email, "Code while locked out")
            return _locked_page(request)
        account = signin.account_for_email(email)
        contact = signin.contact_in_firm(account, organization) if account else None
        if contact is not None and signin.code_verify(
            account=account, code=request.POST.get("code", "")
        ):
            request.session.pop(CODE_EMAIL_KEY, None)
            return _finish_sign_in(request, account, contact, "an emailed code")
        if _refuse_sign_in(request, email, "Wrong or expired sign-in code"):
            return _locked_page(request)
        error = (
            "That code is not right, or it has expired. Check the newest email, "
            "or ask for a new code."
        )
    return render(
        request,
        "portal/code_verify.html",
        {"email": email, "error": error, "minutes": signin.CODE_MINUTES},
        status=400 if error else 200,
    )


def _pending_account(request: HttpRequest) -> PortalAccount | None:
    portal = request.portal
    if portal is None or portal.account is None:
        return None
    return portal.account


@never_cache
@sensitive_post_parameters("code")
def two_factor(request: HttpRequest, org_slug: str) -> HttpResponse:
    _firm(request)
    account = _pending_account(request)
    if account is None:
        return redirect("portal:sign_in", org_slug=org_slug)
    if not request.portal.needs_second_factor:
        return redirect(_home(request))
    if not account.has_two_factor:
        return redirect("portal:two_factor_setup", org_slug=org_slug)
    error = ""
    if request.method == "POST":
        ip = client_ip(request)
        if signin.is_locked_out(account.email, ip):
            return _locked_page(request)
        if signin.totp_verify(account, request.POST.get("code", "")):
            portal_mark_verified(request)
            return redirect(_home(request))
        if _refuse_sign_in(request, account.email, "Wrong authenticator code"):
            portal_sign_out(request)
            return _locked_page(request)
        error = "That code is not right. Enter the six digits your app shows now."
    return render(
        request,
        "portal/two_factor.html",
        {"error": error},
        status=400 if error else 200,
    )


@never_cache
@sensitive_post_parameters("code")
def two_factor_setup(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Add an authenticator app: required by the firm at sign-in, or chosen on the
    account page (then the person is already fully signed in)."""
    organization = _firm(request)
    account = _pending_account(request)
    if account is None:
        return redirect("portal:sign_in", org_slug=org_slug)
    if account.has_two_factor:
        return redirect(_home(request))
    error = ""
    if request.method == "POST" and "code" in request.POST:
        if signin.totp_confirm(account, request.POST.get("code", "")):
            portal_mark_verified(request)
            portal_activity_record(
                organization_id=organization.pk,
                action=Activity.TWO_FACTOR_ENABLED,
                request=request,
                contact=request.portal.contact,
                summary="Authenticator app added",
            )
            messages.success(request, "Your authenticator app is set up.")
            return redirect(_home(request))
        error = "That code is not right. Enter the six digits your app shows now."
    elif not account.totp_secret or request.method == "GET":
        signin.totp_begin(account)
    uri = signin.totp_uri(account, organization)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return render(
        request,
        "portal/two_factor_setup.html",
        {
            "qr": qr,
            "secret": uri.split("secret=")[1].split("&")[0],
            "error": error,
            "required": organization.portal_require_two_factor,
        },
        status=400 if error else 200,
    )


@require_POST
def sign_out(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = _firm(request)
    if request.session.get(PORTAL_KEY):
        portal_activity_record(
            organization_id=organization.pk,
            action=Activity.SIGNED_OUT,
            request=request,
            contact=request.portal.contact,
            summary="Signed out",
        )
    portal_sign_out(request)
    messages.success(request, "You are signed out.")
    return redirect("portal:sign_in", org_slug=org_slug)


@never_cache
def invitation(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    """An invitation: GET shows Continue; the POST signs the person in."""
    organization = _firm(request)
    check = portal_invitation_check(token, organization=organization)
    if not check.ok:
        if request.method == "POST":
            portal_activity_record(
                organization_id=organization.pk,
                action=Activity.DENIED,
                request=request,
                contact=check.invitation.contact if check.invitation else None,
                summary=f"Invitation refused: {check.reason}",
            )
        return render(
            request,
            "portal/refused.html",
            {
                "title": "This invitation cannot be used",
                "reason": INVITATION_REFUSALS[check.reason],
            },
            status=410 if check.reason in ("used", "expired", "revoked") else 404,
        )
    if request.method != "POST":
        return render(
            request,
            "portal/continue.html",
            {
                "title": f"Welcome to {organization.name}'s client portal",
                "lead": "Continue to open your portal. You can choose a password "
                "next, or sign in later with a code we email you.",
            },
        )
    account = portal_invitation_redeem(check.invitation)
    contact = check.invitation.contact
    response = _finish_sign_in(request, account, contact, "an invitation")
    if response.url == _home(request):
        messages.success(
            request,
            "Welcome. Choose a password below if you like; you can always sign in "
            "with a code emailed to you instead.",
        )
        return redirect("portal:account", org_slug=org_slug)
    return response


@never_cache
def link_continue(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    """A request link. GET never redeems it (mail scanners open links)."""
    organization = _firm(request)
    ip = client_ip(request)
    if request.method == "POST" and not link_attempt_allowed(organization.pk, ip):
        portal_activity_record(
            organization_id=organization.pk,
            action=Activity.LINK_REFUSED,
            request=request,
            summary="Request link: too many attempts",
            detail={"reason": "limited"},
        )
        return render(
            request,
            "portal/refused.html",
            {"title": "Please wait a moment", "reason": REFUSALS["limited"]},
            status=429,
        )
    check = request_link_check(token, organization=organization)
    if not check.ok:
        if request.method == "POST":
            link = check.link
            portal_activity_record(
                organization_id=organization.pk,
                action=Activity.LINK_REFUSED,
                request=request,
                contact=link.contact if link else None,
                client=link.request.client if link else None,
                link=link,
                summary=f"Request link refused: {check.reason}",
                detail={"reason": check.reason},
            )
        return render(
            request,
            "portal/refused.html",
            {
                "title": "This link cannot be used",
                "reason": REFUSALS[check.reason],
                "sign_in": True,
            },
            status=404 if check.reason == "unknown" else 410,
        )
    link = check.link
    if request.method != "POST":
        return render(
            request,
            "portal/continue.html",
            {
                "title": f"Documents for {organization.name}",
                "lead": f"{organization.name} asks for a few documents. Continue to "
                "see the list and upload them from this device.",
                "button": "Continue",
            },
        )
    request_link_redeem(link)
    portal_remember_link(request, link)
    portal_activity_record(
        organization_id=organization.pk,
        action=Activity.LINK_REDEEMED,
        request=request,
        contact=link.contact,
        client=link.request.client,
        link=link,
        summary=f"Opened the request link for “{link.request.title}”",
        detail={"request": str(link.request.uuid)},
    )
    return redirect(
        "portal:request_detail", org_slug=org_slug, request_uuid=link.request.uuid
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@portal_login_required
def account(request: HttpRequest, org_slug: str) -> HttpResponse:
    portal = request.portal
    account = portal.account
    error = ""
    if request.method == "POST":
        password1 = request.POST.get("password1", "")
        password2 = request.POST.get("password2", "")
        if password1 != password2:
            error = "The two passwords are not the same."
        else:
            try:
                signin.account_set_password(account, password1)
            except ValidationError as exc:
                error = error_text(exc)
            else:
                portal_activity_record(
                    organization_id=portal.organization.pk,
                    action=Activity.PASSWORD_SET,
                    request=request,
                    contact=portal.contact,
                    summary="Password set",
                )
                messages.success(request, "Your password is saved.")
                return redirect("portal:account", org_slug=org_slug)
    return render(
        request,
        "portal/account.html",
        {"error": error, "account": account, "portal_section": "account"},
        status=400 if error else 200,
    )
