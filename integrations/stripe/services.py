"""A firm's Stripe connection: saving its keys (checked first), the payment
methods it takes, and disconnecting.

The secret key is checked with one call to Stripe (`GET /v1/account`, which also
gives the account's id) before anything is saved: a key Stripe refuses is never
stored. The webhook's signing secret cannot be checked that way (Stripe shows
it once, when the firm adds our webhook URL to its account, and only signs
events with it), so it is checked by shape; the connection page then shows the
events that arrived and whether their signatures were good.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.models import Organization
from integrations.stripe.client import (
    StripeError,
    error_message,
    expire_idempotency_key,
    is_live_key,
    key_hint,
    stripe_client,
    stripe_client_for_key,
)
from integrations.stripe.models import CheckoutSession, StripeAccount

logger = logging.getLogger(__name__)

SECRET_KEY_SHAPE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,255}$")
WEBHOOK_SECRET_SHAPE = re.compile(r"^whsec_[A-Za-z0-9+/=]{8,255}$")


def stripe_account_of(organization: Organization | int) -> StripeAccount | None:
    """The firm's Stripe account, if it connected one."""
    org_id = organization if isinstance(organization, int) else organization.pk
    return StripeAccount.objects.filter(organization_id=org_id).first()


def _checked_key(secret_key: str) -> tuple[str, bool]:
    """Stripe's id of the account behind `secret_key` and its mode, from the one
    call that checks the key; ValidationError when Stripe refuses it."""
    secret_key = secret_key.strip()
    if not SECRET_KEY_SHAPE.match(secret_key):
        raise ValidationError(
            {
                "secret_key": "This is not a Stripe secret key: it starts with "
                "sk_live_ or sk_test_ (or rk_ for a restricted key)."
            }
        )
    try:
        account = stripe_client_for_key(secret_key).v1.accounts.retrieve_current()
    except StripeError as exc:
        raise ValidationError({"secret_key": error_message(exc)}) from exc
    return account.id, is_live_key(secret_key)


def _clean_webhook_secret(webhook_secret: str) -> str:
    webhook_secret = webhook_secret.strip()
    if webhook_secret and not WEBHOOK_SECRET_SHAPE.match(webhook_secret):
        raise ValidationError(
            {
                "webhook_secret": "This is not a webhook signing secret: Stripe "
                "shows it as whsec_… on the webhook's page."
            }
        )
    return webhook_secret


def stripe_account_save(
    *,
    organization: Organization,
    secret_key: str = "",
    webhook_secret: str = "",
    accept_cards: bool,
    accept_ach: bool,
    by: User,
    request: HttpRequest | None = None,
) -> StripeAccount:
    """Connect the firm's Stripe account or change its settings.

    An empty `secret_key` or `webhook_secret` keeps the one saved; a new secret
    key is checked with Stripe first (one call) and refused if Stripe refuses it.
    """
    account = stripe_account_of(organization)
    if account is None and not secret_key.strip():
        raise ValidationError({"secret_key": "Paste the account's secret key."})
    if not (accept_cards or accept_ach):
        raise ValidationError(
            "Take cards, bank accounts or both; to stop online payment, disconnect."
        )
    webhook_secret = _clean_webhook_secret(webhook_secret)
    checked = _checked_key(secret_key) if secret_key.strip() else None
    changed = []
    with transaction.atomic():
        account = (
            StripeAccount.objects.select_for_update()
            .filter(organization=organization)
            .first()
        ) or StripeAccount(organization=organization)
        if checked is not None:
            stripe_id, live = checked
            if account.pk and account.stripe_account_id != stripe_id:
                changed.append("account")
            account.secret_key = secret_key.strip()
            account.key_hint = key_hint(account.secret_key)
            account.stripe_account_id = stripe_id
            account.livemode = live
            account.checked_at = timezone.now()
            changed.append("secret key")
        if webhook_secret:
            account.webhook_secret = webhook_secret
            changed.append("webhook signing secret")
        if (account.accept_cards, account.accept_ach) != (accept_cards, accept_ach):
            changed.append("payment methods")
        account.accept_cards = accept_cards
        account.accept_ach = accept_ach
        account.full_clean()
        account.save()
        audit_event_record(
            action=AuditAction.FIRM_SETTINGS_CHANGED,
            organizations=[organization],
            actor=by,
            target="Stripe payments",
            request=request,
            detail={"stripe": changed or ["saved unchanged"]},
        )
    return account


def stripe_account_disconnect(
    *, account: StripeAccount, by: User, request: HttpRequest | None = None
) -> int:
    """Forget the firm's keys (its clients can no longer pay online).

    The Checkout sessions still open are expired in Stripe first, with the key
    we are about to forget: a client holding one could otherwise pay after we
    stopped listening, and the payment would never reach the invoice. Stripe
    not answering does not stop the disconnect (each such session expires by
    itself within a day); it is logged. Returns how many sessions were expired.
    """
    organization = account.organization
    open_sessions = list(
        CheckoutSession.objects.filter(
            organization=organization, status=CheckoutSession.Status.OPEN
        ).exclude(session_id="")
    )
    expired = 0
    client = stripe_client(account)
    for session in open_sessions:
        try:
            client.v1.checkout.sessions.expire(
                session.session_id,
                options={"idempotency_key": expire_idempotency_key(session)},
            )
            expired += 1
        except StripeError as exc:
            logger.warning(
                "Firm %s: Checkout session %s not expired on disconnect: %s",
                organization.pk,
                session.session_id,
                exc,
            )
    with transaction.atomic():
        CheckoutSession.objects.filter(pk__in=[s.pk for s in open_sessions]).update(
            status=CheckoutSession.Status.EXPIRED, updated_at=timezone.now()
        )
        StripeAccount.objects.filter(pk=account.pk).delete()
        audit_event_record(
            action=AuditAction.FIRM_SETTINGS_CHANGED,
            organizations=[organization],
            actor=by,
            target="Stripe payments",
            request=request,
            detail={"stripe": ["disconnected"], "sessions_expired": expired},
        )
    return expired
