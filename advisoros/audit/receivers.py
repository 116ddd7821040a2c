"""Turn the authentication signals (Django's and axes' lockout) into audit events."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record, organizations_of


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit_event_record(
        action=AuditAction.LOGIN_SUCCESS,
        organizations=organizations_of(user),
        actor=user,
        request=request,
    )


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        expired = getattr(request, "session_expired", False)
        audit_event_record(
            action=AuditAction.SESSION_EXPIRED if expired else AuditAction.LOGOUT,
            organizations=organizations_of(user),
            actor=user,
            request=request,
        )


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = credentials.get("username") or credentials.get("email") or ""
    _record_for_email(AuditAction.LOGIN_FAILURE, email, request)


@receiver(user_locked_out)
def on_locked_out(sender, request, username=None, **kwargs):
    """Axes refused a sign-in: the limit was just reached, or the pair is locked."""
    _record_for_email(AuditAction.LOCKED_OUT, username or "", request)


def _record_for_email(action: AuditAction, email: str, request) -> None:
    """An event about an email typed at sign-in, in the firms of its account if any."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first() if email else None
    audit_event_record(
        action=action,
        organizations=organizations_of(user),
        actor_email=email[:254],
        target_user=user,
        request=request,
    )
