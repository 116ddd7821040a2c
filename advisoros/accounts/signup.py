"""Sign-up that tells nobody which addresses have an account.

The form's answer is the same page either way ("check your email"); what
differs is the email, which only the address's owner reads:
- a new address gets a link that creates the person and the firm;
- an address with an account gets a note that someone tried to sign up with
  it, and where to sign in or reset the password.
The password is hashed in both cases, so the answer takes as long either way.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from advisoros.accounts.models import PendingSignup, User, normalize_email
from advisoros.email import absolute_url
from advisoros.tenancy.models import Organization
from advisoros.tenancy.services import organization_create, slug_suggest

SIGNUP_MAX_AGE = timedelta(days=2)
SALT = "advisoros.accounts.signup"


class SignupUnavailable(Exception):
    """The link is expired, forged or used."""


def signup_token(pending: PendingSignup) -> str:
    return signing.dumps(str(pending.uuid), salt=SALT)


def signup_start(
    *, email: str, name: str, firm_name: str, slug: str, password: str
) -> None:
    """Email the address what fits it (see the module's docstring)."""
    email = normalize_email(email)
    hashed = make_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        _mail(
            email,
            "Someone tried to sign up with your email",
            "accounts/email/signup_existing.txt",
            {
                "user": existing,
                "login_url": absolute_url(reverse("accounts:login")),
                "reset_url": absolute_url(reverse("accounts:password_reset")),
            },
        )
        return
    pending = PendingSignup.objects.create(
        email=email, name=name, firm_name=firm_name, slug=slug, password=hashed
    )
    _mail(
        email,
        "Confirm your email to create your firm",
        "accounts/email/signup_confirm.txt",
        {
            "pending": pending,
            "confirm_url": absolute_url(
                reverse("accounts:signup_confirm", args=[signup_token(pending)])
            ),
            "days": SIGNUP_MAX_AGE.days,
        },
    )


def signup_pending(token: str) -> PendingSignup:
    try:
        key = signing.loads(token, salt=SALT, max_age=SIGNUP_MAX_AGE.total_seconds())
    except signing.BadSignature as exc:
        raise SignupUnavailable from exc
    pending = PendingSignup.objects.filter(uuid=key).first()
    if pending is None:
        raise SignupUnavailable
    return pending


def signup_complete(
    *, pending: PendingSignup, request: HttpRequest | None = None
) -> tuple[User, Organization]:
    """The person and their firm, from a confirmed sign-up (used up by it).

    The address may have got an account since (an invitation, a second
    sign-up): then the link is used up and nothing is made."""
    with transaction.atomic():
        PendingSignup.objects.filter(pk=pending.pk).delete()
        if User.objects.filter(email__iexact=pending.email).exists():
            raise SignupUnavailable
        try:
            with transaction.atomic():
                user = User.objects.create(
                    email=pending.email, name=pending.name, password=pending.password
                )
        except IntegrityError as exc:
            raise SignupUnavailable from exc
        slug = pending.slug
        if not slug or Organization.objects.filter(slug=slug).exists():
            # Taken since the form checked it: the firm gets a free one.
            slug = slug_suggest(pending.firm_name)
        organization = organization_create(
            name=pending.firm_name, slug=slug, owner=user, request=request
        )
    return user, organization


def signups_expired_delete() -> int:
    """Sign-ups whose link can no longer be used."""
    cutoff = timezone.now() - SIGNUP_MAX_AGE
    return PendingSignup.objects.filter(created_at__lt=cutoff).delete()[0]


def _mail(to: str, subject: str, template: str, context: dict) -> None:
    send_mail(
        subject=f"AdvisorOS: {subject}",
        message=render_to_string(template, context).strip() + "\n",
        from_email=None,
        recipient_list=[to],
    )
