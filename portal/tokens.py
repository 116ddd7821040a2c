"""Random tokens for portal links: only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_BYTES = 32


def new_token() -> str:
    """43 URL-safe characters (256 random bits): never guessed."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def code_hash(account_id: int, code: str) -> str:
    """A six-digit code has little entropy: keyed with the secret key and the account."""
    message = f"portal-code:{account_id}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def looks_like_token(value: str) -> bool:
    return 20 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)
