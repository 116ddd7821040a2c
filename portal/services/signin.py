"""Signing in to the portal: password, emailed code, authenticator app, lockout.

A portal account opens a firm only where that firm's contact with the same
email has an active grant; to anyone else every answer is the same ("email or
password is not right", "if this address may use the portal, a code is on its
way"), so the pages do not tell who is a client of the firm.

Lockout follows the staff sign-in (django-axes' settings): after
AXES_FAILURE_LIMIT failures for one email from one address, that pair waits
AXES_COOLOFF_TIME; after SIGN_IN_ADDRESS_FAILURE_LIMIT failures from one address,
whatever the emails (one password sprayed over many), the whole address waits. Codes are six digits, valid CODE_MINUTES, five tries each.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.oath import TOTP

from advisoros.email import branded_email
from advisoros.tenancy.models import Organization
from clients.models import Contact
from portal.models import PortalAccount, PortalGrant, PortalSignInCode
from portal.tokens import code_hash

CODE_MINUTES = 10
CODE_TRIES = 5
CODES_PER_HOUR = 5
TOTP_STEP = 30
TOTP_TOLERANCE = 1


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def account_for_email(email: str) -> PortalAccount | None:
    email = normalize(email)
    if not email:
        return None
    return PortalAccount.objects.filter(email=email, is_active=True).first()


def contact_in_firm(
    account: PortalAccount, organization: Organization
) -> Contact | None:
    """The firm's contact for this account, if it has any active grant there."""
    grant = (
        PortalGrant.objects.alias(email_lower=Lower("contact__email"))
        .filter(
            organization=organization,
            email_lower=account.email,
            revoked_at__isnull=True,
        )
        .select_related("contact")
        .first()
    )
    return grant.contact if grant is not None else None


# Lockout -------------------------------------------------------------------------


def _failure_key(email: str, ip: str | None) -> str:
    digest = hashlib.sha256(f"{normalize(email)}|{ip or '-'}".encode()).hexdigest()
    return f"portal:sign-in-failures:{digest}"


def _address_key(ip: str | None) -> str:
    return f"portal:sign-in-failures-from:{ip or '-'}"


def is_locked_out(email: str, ip: str | None) -> bool:
    pair_key, address_key = _failure_key(email, ip), _address_key(ip)
    counts = cache.get_many([pair_key, address_key])
    return (
        counts.get(pair_key, 0) >= settings.AXES_FAILURE_LIMIT
        or counts.get(address_key, 0) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
    )


def _count(key: str) -> int:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if cache.add(key, 1, seconds):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, seconds)
        return 1
    cache.touch(key, seconds)
    return count


def note_failure(email: str, ip: str | None) -> bool:
    """Count one failure for the pair and for the address; True when this one
    locks either out."""
    pair = _count(_failure_key(email, ip))
    address = _count(_address_key(ip))
    return (
        pair >= settings.AXES_FAILURE_LIMIT
        or address >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
    )


def clear_failures(email: str, ip: str | None) -> None:
    """A success clears its own pair only: the address's count stays, so one
    valid account cannot reset the count of a spray."""
    cache.delete(_failure_key(email, ip))


# Password --------------------------------------------------------------------------


_DUMMY_HASH = make_password("portal-timing-equaliser")


def password_matches(account: PortalAccount | None, password: str) -> bool:
    """Constant work whether or not the account exists or has a password."""
    if account is None or not account.password:
        check_password(password, _DUMMY_HASH)
        return False
    return check_password(password, account.password)


def account_set_password(account: PortalAccount, password: str) -> None:
    """Raises ValidationError with Django's password rules' messages."""
    validate_password(password)
    account.password = make_password(password)
    account.save(update_fields=["password"])


def account_signed_in(account: PortalAccount) -> None:
    PortalAccount.objects.filter(pk=account.pk).update(last_login_at=timezone.now())


# Emailed codes -----------------------------------------------------------------------


def code_send(
    *, account: PortalAccount, organization: Organization, contact: Contact
) -> bool:
    """Email a new code (earlier unused ones stop working). False when this
    account asked for too many codes this hour."""
    now = timezone.now()
    recent = PortalSignInCode.objects.filter(
        account=account, created_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= CODES_PER_HOUR:
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        PortalSignInCode.objects.filter(account=account, used_at__isnull=True).update(
            used_at=now
        )
        PortalSignInCode.objects.create(
            account=account,
            code_hash=code_hash(account.pk, code),
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    branded_email(
        organization,
        subject=f"Your sign-in code for {organization.name}: {code}",
        to=[account.email],
        text_template="portal/email/sign_in_code.txt",
        context={"code": code, "contact": contact, "minutes": CODE_MINUTES},
    ).send()
    return True


@transaction.atomic
def code_verify(*, account: PortalAccount, code: str) -> bool:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    current = (
        PortalSignInCode.objects.select_for_update()
        .filter(account=account, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
    if current is None or len(code) != 6:
        return False
    if current.code_hash == code_hash(account.pk, code):
        current.used_at = timezone.now()
        current.save(update_fields=["used_at"])
        return True
    current.attempts += 1
    if current.attempts >= CODE_TRIES:
        current.used_at = timezone.now()  # spent: ask for a new one
    current.save(update_fields=["attempts", "used_at"])
    return False


# Authenticator app (TOTP) -------------------------------------------------------------


def totp_begin(account: PortalAccount) -> str:
    """A new secret, not yet confirmed (hex, as django-otp's TOTP devices keep it)."""
    secret = secrets.token_hex(20)
    account.totp_secret = secret
    account.totp_confirmed_at = None
    account.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return secret


def _totp_match(account: PortalAccount, code: str) -> bool:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if not account.totp_secret or len(code) != 6:
        return False
    totp = TOTP(bytes.fromhex(account.totp_secret), step=TOTP_STEP, digits=6)
    totp.time = timezone.now().timestamp()
    now_step = totp.t()
    for offset in range(-TOTP_TOLERANCE, TOTP_TOLERANCE + 1):
        totp.drift = offset
        step = now_step + offset
        if step <= account.totp_last_step:
            continue  # a code is used once
        if secrets.compare_digest(f"{totp.token():06d}", code):
            account.totp_last_step = step
            return True
    return False


def totp_confirm(account: PortalAccount, code: str) -> bool:
    if not _totp_match(account, code):
        return False
    account.totp_confirmed_at = timezone.now()
    account.save(update_fields=["totp_confirmed_at", "totp_last_step"])
    return True


def totp_verify(account: PortalAccount, code: str) -> bool:
    if account.totp_confirmed_at is None or not _totp_match(account, code):
        return False
    account.save(update_fields=["totp_last_step"])
    return True


def totp_uri(account: PortalAccount, organization: Organization) -> str:
    secret = base64.b32encode(bytes.fromhex(account.totp_secret)).decode().rstrip("=")
    label = quote(f"{organization.name} portal:{account.email}")
    issuer = quote(f"{organization.name} portal")
    return f"otpauth://totp/{label}?secret={secret}&issuer={issuer}&digits=6&period=30"
