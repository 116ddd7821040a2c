"""The audit trail's keys, derived from settings.AUDIT_CHAIN_KEY (never stored in
the database).

One secret, one sub-key per use, so that a digest made for one purpose (an
event's link) can never pass for another (a checkpoint's signature).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Literal

from django.conf import settings

Purpose = Literal["events", "changes", "checkpoints", "key id"]


@lru_cache(maxsize=16)
def _derive(master: str, purpose: str) -> bytes:
    return hmac.new(
        master.encode(), f"advisoros.audit.{purpose}".encode(), hashlib.sha256
    ).digest()


def audit_key(purpose: Purpose) -> bytes:
    return _derive(settings.AUDIT_CHAIN_KEY, purpose)


def key_id() -> str:
    """A public fingerprint of the key: written in checkpoints, so a verifier
    running with another key says so instead of reporting every link broken."""
    return audit_key("key id").hex()[:16]


def audit_hmac(purpose: Purpose, data: bytes) -> str:
    return hmac.new(audit_key(purpose), data, hashlib.sha256).hexdigest()
