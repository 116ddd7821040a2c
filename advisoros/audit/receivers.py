"""Turn Django's authentication signals into audit events (through the service)."""

from __future__ import annotations

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
        audit_event_record(
            action=AuditAction.LOGOUT,
            organizations=organizations_of(user),
            actor=user,
            request=request,
        )


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = (
        (credentials.get("username") or credentials.get("email") or "").strip().lower()
    )
    user = User.objects.filter(email__iexact=email).first() if email else None
    audit_event_record(
        action=AuditAction.LOGIN_FAILURE,
        organizations=organizations_of(user),
        actor_email=email[:254],
        target_user=user,
        request=request,
    )
