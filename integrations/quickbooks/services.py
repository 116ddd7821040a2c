"""Connecting a QuickBooks Online company over OAuth, and disconnecting it.

The flow (docs/quickbooks.md, "Connecting"):

1. `connect_start` (the connection page's button, owners and admins): a random
   `state` is kept in the person's session with the firm, the person, what is
   being connected (the firm's own books or a client's) and when; the browser
   goes to Intuit's consent page with it.
2. Intuit sends the browser back to settings.INTUIT_REDIRECT_URI, the one
   address registered with Intuit (`/integrations/quickbooks/callback/`),
   with `code`, `realmId` and the `state`. That view finds the state in the
   session and sends the browser on to the firm's own callback page, where
   the tenancy middleware checks the membership as for any firm page.
3. `connect_finish` takes the state out of the session (once only) and checks
   it names this firm and this person and is at most ten minutes old; then it
   trades the code for tokens at Intuit and stores them encrypted. A wrong or
   stale state stores nothing and says so.

A company (realm) is connected at most once per firm: as the firm's own books
or as one client's. Another firm may connect the same company (a client that
changed accountants); each firm's connection, events and sync are its own.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import requests
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.models import Organization
from clients.models import Client
from integrations.quickbooks.models import (
    ConnectionKind,
    ConnectionStatus,
    QuickBooksConnection,
)
from integrations.quickbooks.oauth import (
    SCOPES,
    AuthClientError,
    AuthClientNotConfigured,
    auth_client,
)
from integrations.quickbooks.tokens import reconnect_flag_forget, tokens_store

logger = logging.getLogger(__name__)

SESSION_KEY = "quickbooks_oauth"
STATE_SECONDS = 10 * 60
MAX_PENDING = 5
WRONG_STATE = (
    "That QuickBooks sign-in did not start here, or took longer than ten "
    "minutes. Nothing was saved: connect again."
)


@dataclass(frozen=True)
class PendingConnect:
    state: str
    organization_id: int
    slug: str
    user_id: int
    kind: str
    client_uuid: str
    started: float


def _pending(session: SessionBase) -> dict[str, dict]:
    now = time.time()
    return {
        state: entry
        for state, entry in (session.get(SESSION_KEY) or {}).items()
        if now - entry.get("started", 0) <= STATE_SECONDS
    }


def connect_start(
    *,
    session: SessionBase,
    organization: Organization,
    by: User,
    client: Client | None,
) -> str:
    """Remember a new state in the session; returns Intuit's consent URL."""
    state = secrets.token_urlsafe(32)
    pending = _pending(session)
    pending[state] = {
        "organization_id": organization.pk,
        "slug": organization.slug,
        "user_id": by.pk,
        "kind": ConnectionKind.CLIENT if client else ConnectionKind.FIRM,
        "client_uuid": str(client.uuid) if client else "",
        "started": time.time(),
    }
    # The newest few only: a person clicking Connect over and over.
    newest = sorted(pending.items(), key=lambda kv: kv[1]["started"])[-MAX_PENDING:]
    session[SESSION_KEY] = dict(newest)
    return auth_client(state_token=state).get_authorization_url(SCOPES)


def pending_connect(session: SessionBase, state: str) -> PendingConnect | None:
    """The sign-in `state` names, if this session started it (not taken out)."""
    entry = _pending(session).get(state or "")
    if entry is None:
        return None
    return PendingConnect(state=state, **entry)


def _take(session: SessionBase, state: str) -> PendingConnect | None:
    found = pending_connect(session, state)
    entries = session.get(SESSION_KEY) or {}
    if state in entries:
        del entries[state]
        session[SESSION_KEY] = entries
    return found


def connect_finish(
    *,
    session: SessionBase,
    organization: Organization,
    by: User,
    state: str,
    code: str,
    realm_id: str,
    request: HttpRequest | None = None,
) -> QuickBooksConnection:
    """Check `state`, trade `code` for tokens, store the connection.
    ValidationError (nothing stored) when anything is wrong."""
    pending = _take(session, state)
    if (
        pending is None
        or pending.organization_id != organization.pk
        or pending.user_id != by.pk
    ):
        logger.warning(
            "Firm %s: QuickBooks callback with a state this session did not start",
            organization.pk,
        )
        raise ValidationError(WRONG_STATE)
    realm_id = (realm_id or "").strip()
    if not code or not realm_id.isdigit() or len(realm_id) > 32:
        raise ValidationError("Intuit did not say which company was connected.")
    client = None
    if pending.kind == ConnectionKind.CLIENT:
        client = Client.objects.filter(
            organization=organization, uuid=pending.client_uuid
        ).first()
        if client is None:
            raise ValidationError("That client no longer exists. Nothing was saved.")
    _check_realm_free(organization, realm_id, pending.kind, client)
    intuit = auth_client(state_token=state)
    try:
        intuit.get_bearer_token(code, realm_id=realm_id)
    except AuthClientError as exc:
        logger.warning(
            "Firm %s: Intuit refused the authorization code: %s", organization.pk, exc
        )
        raise ValidationError(
            "Intuit did not accept the sign-in (it may have been used already). "
            "Nothing was saved: connect again."
        ) from exc
    except requests.RequestException as exc:
        raise ValidationError(
            "Intuit could not be reached. Nothing was saved: try again shortly."
        ) from exc
    with transaction.atomic():
        connection = _slot_for(organization, pending.kind, client, realm_id)
        replaced = connection.realm_id and connection.realm_id != realm_id
        connection.realm_id = realm_id
        tokens_store(connection=connection, answer=intuit)
        connection.status = ConnectionStatus.CONNECTED
        connection.connected_at = timezone.now()
        connection.connected_by = by
        connection.reconnect_emailed_at = None
        connection.expiry_warned_at = None
        connection.full_clean()
        connection.save()
        reconnect_flag_forget(organization.pk)
        audit_event_record(
            action=AuditAction.FIRM_SETTINGS_CHANGED,
            organizations=[organization],
            actor=by,
            target="QuickBooks Online",
            request=request,
            detail={
                "quickbooks": "connected",
                "kind": pending.kind,
                "client": str(client.uuid) if client else "",
                "realm": realm_id,
                "replaced_company": bool(replaced),
            },
        )
    _read_company_name(connection)
    return connection


def _check_realm_free(
    organization: Organization, realm_id: str, kind: str, client: Client | None
) -> None:
    other = (
        QuickBooksConnection.objects.filter(
            organization=organization, realm_id=realm_id
        )
        .select_related("client")
        .first()
    )
    if other is None:
        return
    same = other.kind == kind and other.client_id == (client.pk if client else None)
    if same:
        return
    where = (
        "as the firm's own books"
        if other.kind == ConnectionKind.FIRM
        else f"for {other.client.display_name}"
    )
    raise ValidationError(
        f"That QuickBooks company is already connected {where}. A company is "
        "connected once per firm. Nothing was saved."
    )


def _slot_for(
    organization: Organization, kind: str, client: Client | None, realm_id: str
) -> QuickBooksConnection:
    found = (
        QuickBooksConnection.objects.select_for_update()
        .filter(organization=organization, kind=kind, client=client)
        .first()
    )
    return found or QuickBooksConnection(
        organization=organization, kind=kind, client=client
    )


def _read_company_name(connection: QuickBooksConnection) -> None:
    """The company's name for the page (one API call; not worth failing for)."""
    from integrations.quickbooks.client import QuickBooksClient

    try:
        info = QuickBooksClient(connection).company_info()
    except Exception as exc:  # noqa: BLE001 (a cosmetic read: never fails the connect)
        logger.info("QuickBooks company name not read: %s", exc)
        return
    name = str(info.get("CompanyName") or "")[:255]
    if name:
        QuickBooksConnection.objects.filter(pk=connection.pk).update(company_name=name)
        connection.company_name = name


def connection_disconnect(
    *, connection: QuickBooksConnection, by: User, request: HttpRequest | None = None
) -> bool:
    """Revoke the grant at Intuit, then forget the tokens (the row, its runs
    and events stay, marked disconnected). Returns whether Intuit confirmed the
    revocation; when it could not be reached the tokens are forgotten anyway
    (the page says to remove the app in QuickBooks too)."""
    token = connection.refresh_token or connection.access_token
    revoked = False
    if token:
        try:
            revoked = bool(auth_client().revoke(token=token))
        except (
            AuthClientError,
            AuthClientNotConfigured,
            requests.RequestException,
        ) as exc:
            logger.warning(
                "Firm %s: QuickBooks company %s not revoked at Intuit: %s",
                connection.organization_id,
                connection.realm_id,
                exc,
            )
    with transaction.atomic():
        QuickBooksConnection.objects.filter(pk=connection.pk).update(
            status=ConnectionStatus.DISCONNECTED,
            access_token="",
            refresh_token="",
            access_expires_at=None,
            refresh_expires_at=None,
            refresh_hard_expires_at=None,
            last_error="",
            updated_at=timezone.now(),
        )
        reconnect_flag_forget(connection.organization_id)
        audit_event_record(
            action=AuditAction.FIRM_SETTINGS_CHANGED,
            organizations=[connection.organization_id],
            actor=by,
            target="QuickBooks Online",
            request=request,
            detail={
                "quickbooks": "disconnected",
                "realm": connection.realm_id,
                "revoked_at_intuit": revoked,
            },
        )
    connection.refresh_from_db()
    return revoked
