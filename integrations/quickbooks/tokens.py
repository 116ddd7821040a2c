"""A connection's access token, refreshed when due, one refresh at a time.

Intuit rotates the refresh token on every refresh: the answer carries a new
one and the old one soon stops working. Two workers refreshing the same
connection at once would each spend the stored token; one of them would store a
token Intuit is about to forget, and the connection would break at the next
refresh. So a refresh happens under the connection's row lock
(`SELECT ... FOR UPDATE`): the second worker waits, reads the row again once
the first has committed, finds a fresh access token and uses it. The newest
refresh token is stored in the same transaction that took the lock.

`invalid_grant` from Intuit (the company disconnected our app, the token
expired or was revoked) turns the connection to "reconnect": the banner on the
firm's pages (integrations.quickbooks.panels) and, once, an email to the
firm's owners and admins (integrations.quickbooks.tasks).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from advisoros.tenancy.tasks import enqueue_for_organization
from integrations.quickbooks.models import ConnectionStatus, QuickBooksConnection
from integrations.quickbooks.oauth import AuthClientError, auth_client, is_invalid_grant

logger = logging.getLogger(__name__)

# An access token this close to its end is refreshed before use.
REFRESH_MARGIN = timedelta(minutes=5)
RECONNECT_EMAIL_JOB = "integrations.quickbooks.tasks.reconnect_email_send"
RECONNECT_FLAG = "qbo:reconnect:{}"


class NeedsReconnect(Exception):
    """The connection cannot be used until someone signs in to Intuit again."""


class TokenRefreshFailed(Exception):
    """Intuit could not be reached, or answered an error other than
    invalid_grant: nothing was changed, try again later."""


def _fresh(connection: QuickBooksConnection) -> bool:
    return bool(
        connection.status == ConnectionStatus.CONNECTED
        and connection.access_token
        and connection.access_expires_at
        and connection.access_expires_at > timezone.now() + REFRESH_MARGIN
    )


def connection_access_token(
    connection: QuickBooksConnection, *, force: bool = False
) -> str:
    """A usable access token of `connection` (refreshed if due, or if `force`:
    Intuit refused the one we hold). Updates `connection` in place."""
    if not force and _fresh(connection):
        return connection.access_token
    held = connection.access_token
    failure: Exception | None = None
    with transaction.atomic():
        locked = QuickBooksConnection.objects.select_for_update().get(
            organization_id=connection.organization_id, pk=connection.pk
        )
        if locked.status != ConnectionStatus.CONNECTED:
            failure = NeedsReconnect(locked.last_error or "Not connected.")
        elif _fresh(locked) and (not force or locked.access_token != held):
            pass  # refreshed by another worker while we waited for the lock
        else:
            failure = _refresh(locked)
    _copy_tokens(locked, connection)
    if failure is not None:
        raise failure
    return connection.access_token


def _refresh(locked: QuickBooksConnection) -> Exception | None:
    """Refresh `locked` (its row lock held). Returns the failure to raise once
    the transaction has committed (a "reconnect" state must be kept)."""
    client = auth_client()
    try:
        client.refresh(refresh_token=locked.refresh_token)
    except AuthClientError as exc:
        if is_invalid_grant(exc):
            connection_mark_reconnect(
                connection=locked,
                reason="Intuit refused the connection's refresh token (it was "
                "revoked, or it expired). Sign in to QuickBooks again.",
            )
            return NeedsReconnect(locked.last_error)
        logger.warning(
            "QuickBooks company %s: token refresh failed: %s", locked.realm_id, exc
        )
        return TokenRefreshFailed(f"Intuit answered {exc.status_code}.")
    except requests.RequestException as exc:
        logger.warning(
            "QuickBooks company %s: Intuit not reached for a refresh: %s",
            locked.realm_id,
            exc,
        )
        return TokenRefreshFailed("Intuit could not be reached.")
    tokens_store(connection=locked, answer=client)
    locked.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "access_expires_at",
            "refresh_expires_at",
            "refresh_hard_expires_at",
            "refreshed_at",
            "last_error",
            "updated_at",
        ]
    )
    return None


def tokens_store(*, connection: QuickBooksConnection, answer) -> None:
    """Put the token endpoint's answer (an AuthClient after a grant or a
    refresh) on `connection`, unsaved. The refresh token is always the newest."""
    now = timezone.now()
    connection.access_token = answer.access_token
    connection.refresh_token = answer.refresh_token
    connection.access_expires_at = now + timedelta(seconds=int(answer.expires_in or 0))
    if answer.x_refresh_token_expires_in:
        connection.refresh_expires_at = now + timedelta(
            seconds=int(answer.x_refresh_token_expires_in)
        )
    hard = getattr(answer, "x_refresh_token_hard_expires_in", None)
    if hard:
        connection.refresh_hard_expires_at = now + timedelta(seconds=int(hard))
    connection.refreshed_at = now
    connection.last_error = ""


def _copy_tokens(source: QuickBooksConnection, target: QuickBooksConnection) -> None:
    for name in (
        "access_token",
        "refresh_token",
        "access_expires_at",
        "refresh_expires_at",
        "refresh_hard_expires_at",
        "refreshed_at",
        "status",
        "last_error",
    ):
        setattr(target, name, getattr(source, name))


def connection_mark_reconnect(*, connection: QuickBooksConnection, reason: str) -> None:
    """Turn the connection to "reconnect" (in the caller's transaction): the
    banner from the next page on, and one email to the owners and admins per
    episode (a reconnect clears the mark)."""
    now = timezone.now()
    connection.status = ConnectionStatus.RECONNECT
    connection.last_error = reason
    fields = ["status", "last_error", "updated_at"]
    if connection.reconnect_emailed_at is None:
        connection.reconnect_emailed_at = now
        fields.append("reconnect_emailed_at")
        enqueue_for_organization(
            RECONNECT_EMAIL_JOB,
            connection.organization,
            connection_id=connection.pk,
        )
    connection.save(update_fields=fields)
    logger.warning(
        "Firm %s: QuickBooks company %s needs reconnecting: %s",
        connection.organization_id,
        connection.realm_id,
        reason,
    )
    reconnect_flag_forget(connection.organization_id)


# The banner's flag, kept in the cache: no query on the firm's pages -------------
#
# The cache is the flag's home: set when a connection turns to "reconnect",
# worked out again (one query) when a connection is made or dropped, and
# refreshed for every firm by the daily expiry check. A page only reads it, so
# a cold cache (flushed, evicted) shows no banner until the next change or the
# next day's check: the connection page and the email still tell.


def reconnect_flag_forget(organization_id: int) -> None:
    """Work the firm's flag out now (in the caller's transaction, which sees
    its own change) and put it in the cache once that commits."""
    flag = int(
        QuickBooksConnection.objects.filter(
            organization_id=organization_id, status=ConnectionStatus.RECONNECT
        ).exists()
    )
    key = RECONNECT_FLAG.format(organization_id)
    transaction.on_commit(lambda: cache.set(key, flag, None))


def firm_needs_reconnect(organization_id: int) -> bool:
    """Whether a connection of the firm waits for a new sign-in (the cache only)."""
    return bool(cache.get(RECONNECT_FLAG.format(organization_id)))


def reconnect_flags_prime(organization_ids: set[int]) -> None:
    """The daily check's refresh of the flags it found set in the database (a
    cache that lost them shows the banner again within a day)."""
    for organization_id in organization_ids:
        cache.set(RECONNECT_FLAG.format(organization_id), 1, None)
