"""Sign-up, sign-in with two-factor, password reset, invitations and the account's security page."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisoros.accounts import two_factor
from advisoros.accounts.forms import (
    DisableTwoFactorForm,
    FirmCreateForm,
    InvitationSignupForm,
    OTPCodeForm,
    SignupForm,
)
from advisoros.accounts.middleware import idle_timeout_refresh
from advisoros.accounts.models import User
from advisoros.accounts.signup import (
    SignupUnavailable,
    signup_complete,
    signup_pending,
    signup_start,
)
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record, organizations_of
from advisoros.tenancy.db import bind_user, tenant_context
from advisoros.tenancy.middleware import ACTIVE_ORG_SESSION_KEY
from advisoros.tenancy.models import Invitation, Organization
from advisoros.tenancy.selectors import user_memberships
from advisoros.tenancy.services import (
    InvitationUnavailable,
    invitation_accept,
    organization_create,
    slug_suggest,
)
from advisoros.tenancy.tokens import invitation_from_token

PENDING_KEY = "2fa_pending"
PENDING_MAX_AGE = 5 * 60
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


def _complete_login(request: HttpRequest, user: User, device=None) -> HttpResponse:
    next_url = _safe_next(request, reverse("home"))
    login(request, user, backend=BACKEND)
    if device is not None:
        otp_login(request, device)
    bind_user(user.pk)
    memberships = list(user_memberships(user.pk))
    idle_timeout_refresh(request, memberships)
    if device is None and any(m.organization.require_two_factor for m in memberships):
        messages.warning(
            request, "Your firm requires two-factor sign-in. Set it up to continue."
        )
        return redirect("accounts:security")
    return redirect(next_url)


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request, reverse("home")))
    form = AuthenticationForm(request, data=request.POST or None)
    form.fields["username"].label = "Email"
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if two_factor.has_two_factor(user):
            request.session[PENDING_KEY] = {
                "uid": user.pk,
                "at": int(time.time()),
                "fails": 0,
            }
            verify_url = reverse("accounts:login_verify")
            next_url = _safe_next(request, "")
            if next_url:
                verify_url = f"{verify_url}?{urlencode({'next': next_url})}"
            return redirect(verify_url)
        return _complete_login(request, user)
    return render(
        request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")}
    )


@sensitive_post_parameters("code")
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: the authenticator code (or a recovery code)."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Please sign in again.")
        return redirect("accounts:login")
    user = User.objects.filter(pk=pending["uid"], is_active=True).first()
    if user is None:
        return redirect("accounts:login")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.match_code(user, form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_KEY]
            if device.persistent_id.startswith("otp_static"):
                audit_event_record(
                    action=AuditAction.RECOVERY_CODE_USED,
                    organizations=organizations_of(user),
                    actor=user,
                    request=request,
                )
            return _complete_login(request, user, device)
        pending["fails"] += 1
        request.session[PENDING_KEY] = pending
        audit_event_record(
            action=AuditAction.TWO_FACTOR_FAILURE,
            organizations=organizations_of(user),
            actor=user,
            request=request,
        )
        if pending["fails"] >= 5:
            del request.session[PENDING_KEY]
            messages.error(request, "Too many wrong codes. Sign in again.")
            return redirect("accounts:login")
        form.add_error(
            "code",
            "That code is not valid. Check your authenticator app's clock and try again.",
        )
    return render(
        request,
        "accounts/login_verify.html",
        {"form": form, "next": _safe_next(request, "")},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("accounts:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a person to the firm they used last, or to their first one."""
    memberships = list(user_memberships(request.user.pk))
    if not memberships:
        return render(request, "accounts/no_firm.html")
    slugs = [m.organization.slug for m in memberships]
    slug = request.session.get(ACTIVE_ORG_SESSION_KEY)
    return redirect("tenancy:dashboard", org_slug=slug if slug in slugs else slugs[0])


@sensitive_post_parameters("password1", "password2")
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """A new firm. Anonymous visitors confirm their email first (the answer is the
    same whether or not it has an account); members add a firm at once."""
    form_class = FirmCreateForm if request.user.is_authenticated else SignupForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not request.user.is_authenticated:
            signup_start(
                email=data["email"],
                name=data["name"],
                firm_name=data["firm_name"],
                slug=data["slug"],
                password=data["password1"],
            )
            return render(
                request, "accounts/signup_sent.html", {"email": data["email"]}
            )
        try:
            organization = organization_create(
                name=data["firm_name"],
                slug=data["slug"] or slug_suggest(data["firm_name"]),
                owner=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(request, "accounts/signup.html", {"form": form})
        return _firm_ready(request, request.user, organization)
    return render(request, "accounts/signup.html", {"form": form})


@sensitive_post_parameters()
@never_cache
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the sign-up email: a button (a link scanner's GET creates
    nothing), whose POST makes the person and the firm and signs them in."""
    try:
        pending = signup_pending(token)
    except SignupUnavailable:
        return render(request, "accounts/signup_confirm.html", status=410)
    if request.method != "POST":
        return render(request, "accounts/signup_confirm.html", {"pending": pending})
    try:
        user, organization = signup_complete(pending=pending, request=request)
    except SignupUnavailable:
        return render(request, "accounts/signup_confirm.html", status=410)
    if request.user.is_authenticated:
        logout(request)
    login(request, user, backend=BACKEND)
    return _firm_ready(request, user, organization)


def _firm_ready(request: HttpRequest, user: User, organization) -> HttpResponse:
    bind_user(user.pk)
    idle_timeout_refresh(request, list(user_memberships(user.pk)))
    messages.success(request, f"Welcome to AdvisorOS. {organization.name} is ready.")
    return redirect("tenancy:dashboard", org_slug=organization.slug)


# Invitations -------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@never_cache
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        org_id, invitation_uuid = invitation_from_token(token)
    except signing.SignatureExpired:
        return render(
            request,
            "accounts/invitation_unavailable.html",
            {"reason": "This invitation has expired. Ask the firm to send a new one."},
            status=410,
        )
    except signing.BadSignature as exc:
        raise Http404("Invalid invitation link.") from exc
    organization = Organization.objects.filter(pk=org_id).first()
    if organization is None:
        raise Http404("Invalid invitation link.")
    user = request.user if request.user.is_authenticated else None
    # The signed link is what lets this request into the firm's context.
    with tenant_context(organization, user_id=user.pk if user else None):
        invitation = Invitation.objects.filter(uuid=invitation_uuid).first()
        if invitation is None:
            raise Http404("Invalid invitation link.")
        ctx = {"invitation": invitation, "organization": organization}
        if not invitation.is_open:
            reason = (
                "This invitation has already been used."
                if invitation.accepted_at
                else "This invitation was withdrawn by the firm."
                if invitation.revoked_at
                else "This invitation has expired. Ask the firm to send a new one."
            )
            return render(
                request,
                "accounts/invitation_unavailable.html",
                {**ctx, "reason": reason},
                status=410,
            )
        existing = User.objects.filter(email__iexact=invitation.email).first()
        if user is None and existing is not None:
            ctx["login_url"] = f"{reverse('accounts:login')}?next={request.path}"
            return render(request, "accounts/invitation_accept.html", ctx)
        if user is not None and user.email != invitation.email.lower():
            ctx["wrong_user"] = True
            return render(request, "accounts/invitation_accept.html", ctx)
        form = None if user else InvitationSignupForm(request.POST or None)
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                with transaction.atomic():
                    if user is None:
                        user = User.objects.create_user(
                            invitation.email,
                            form.cleaned_data["password1"],
                            name=form.cleaned_data["name"],
                        )
                    invitation_accept(
                        invitation_id=invitation.pk, user=user, request=request
                    )
            except InvitationUnavailable as exc:
                return render(
                    request,
                    "accounts/invitation_unavailable.html",
                    {**ctx, "reason": str(exc)},
                    status=410,
                )
            except ValidationError as exc:
                if exc.code != "plan_limit":
                    raise
                # The firm's plan is full (advisoros.tenancy.plans): the link
                # still works once the firm makes room.
                return render(
                    request,
                    "accounts/invitation_unavailable.html",
                    {
                        **ctx,
                        "reason": f"{organization.name} has no free seat on its "
                        "AdvisorOS plan right now. Ask the person who invited you "
                        "to make room or upgrade the plan, then open this link "
                        "again.",
                    },
                    status=409,
                )
            if not request.user.is_authenticated:
                login(request, user, backend=BACKEND)
            bind_user(user.pk)
            idle_timeout_refresh(request, list(user_memberships(user.pk)))
            messages.success(request, f"You joined {organization.name}.")
            return redirect("tenancy:dashboard", org_slug=organization.slug)
        ctx["form"] = form
        return render(request, "accounts/invitation_accept.html", ctx)


# Password reset and change --------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is not None:
            audit_event_record(
                action=AuditAction.PASSWORD_RESET_REQUESTED,
                organizations=organizations_of(user),
                actor_email=email,
                target_user=user,
                request=self.request,
            )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_event_record(
            action=AuditAction.PASSWORD_RESET,
            organizations=organizations_of(form.user),
            actor=form.user,
            request=self.request,
        )
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_event_record(
            action=AuditAction.PASSWORD_CHANGED,
            organizations=organizations_of(self.request.user),
            actor=self.request.user,
            request=self.request,
        )
        messages.success(self.request, "Your password was changed.")
        return response


# Two-factor ------------------------------------------------------------------------


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    memberships = list(user_memberships(user.pk))
    required_by = [
        m.organization.name for m in memberships if m.organization.require_two_factor
    ]
    ctx = {
        "enabled": two_factor.has_two_factor(user),
        "required_by": required_by,
        "pending_device": TOTPDevice.objects.filter(user=user, confirmed=False).first(),
        "recovery_left": _recovery_left(user),
    }
    return render(request, "accounts/security.html", ctx)


def _recovery_left(user: User) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user).count()


def _unverified_second_factor(request: HttpRequest) -> HttpResponse | None:
    """Changing an existing second factor needs a session that passed it: a
    password alone (a session opened before two-factor was on) is not enough."""
    if two_factor.has_two_factor(request.user) and not request.user.is_verified():
        messages.error(request, "Confirm with your authenticator code first.")
        return redirect("accounts:two_factor_required")
    return None


@login_required
@require_POST
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    import segno

    if refusal := _unverified_second_factor(request):
        return refusal

    device = two_factor.totp_start(request.user)
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#111827")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"device": device, "qr": qr, "secret": _base32(device), "form": OTPCodeForm()},
    )


def _base32(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_confirm(request: HttpRequest) -> HttpResponse:
    import segno

    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        messages.error(request, "Start the set-up again.")
        return redirect("accounts:security")
    form = OTPCodeForm(request.POST)
    if form.is_valid() and device.verify_token(form.cleaned_data["code"]):
        with transaction.atomic():
            TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
            device.confirmed = True
            device.save()
            codes = two_factor.recovery_codes_regenerate(request.user)
        otp_login(request, device)
        audit_event_record(
            action=AuditAction.TWO_FACTOR_ENABLED,
            organizations=organizations_of(request.user),
            actor=request.user,
            request=request,
        )
        messages.success(request, "Two-factor sign-in is on.")
        return render(request, "accounts/recovery_codes.html", {"codes": codes})
    form.add_error(
        "code",
        "That code is not valid. Scan the code again or check your phone's clock.",
    )
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#111827")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"device": device, "qr": qr, "secret": _base32(device), "form": form},
    )


@login_required
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        messages.error(request, "Sign in with your authenticator code first.")
        return redirect("accounts:security")
    codes = two_factor.recovery_codes_regenerate(request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
@sensitive_post_parameters("password")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if refusal := _unverified_second_factor(request):
        return refusal
    memberships = list(user_memberships(request.user.pk))
    required_by = [
        m.organization.name for m in memberships if m.organization.require_two_factor
    ]
    form = DisableTwoFactorForm(request.user, request.POST or None)
    if request.method == "POST" and not required_by and form.is_valid():
        two_factor.two_factor_remove(request.user)
        audit_event_record(
            action=AuditAction.TWO_FACTOR_DISABLED,
            organizations=organizations_of(request.user),
            actor=request.user,
            request=request,
        )
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("accounts:security")
    return render(
        request,
        "accounts/two_factor_disable.html",
        {"form": form, "required_by": required_by},
    )


@login_required
@sensitive_post_parameters("code")
def two_factor_required(request: HttpRequest) -> HttpResponse:
    """A firm requires two-factor and this session has not passed it."""
    slug = request.GET.get("firm", "")
    # Only the person's own firms: the page must not name a firm to an outsider.
    organization = next(
        (
            m.organization
            for m in user_memberships(request.user.pk)
            if m.organization.slug == slug
        ),
        None,
    )
    enabled = two_factor.has_two_factor(request.user)
    form = OTPCodeForm(request.POST or None) if enabled else None
    if form is not None and request.method == "POST" and form.is_valid():
        device = two_factor.match_code(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return (
                redirect("tenancy:dashboard", org_slug=organization.slug)
                if organization
                else redirect("home")
            )
        form.add_error("code", "That code is not valid.")
    return render(
        request,
        "accounts/two_factor_required.html",
        {"firm": organization, "enabled": enabled, "form": form},
    )
