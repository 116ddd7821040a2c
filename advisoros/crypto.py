"""Encryption at rest for secrets and tax ids.

`EncryptedTextField` stores Fernet tokens (AES-128-CBC + HMAC-SHA256). Keys come
from FIELD_ENCRYPTION_KEYS: the first encrypts, every key decrypts, so a key is
rotated by putting a new one first and re-saving rows at leisure. The database
never sees the plain value, so it cannot be searched there: store what a page
must search or show (the last four digits) in a separate, plain column.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes): "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from exc


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from exc


class EncryptedTextField(models.TextField):
    """Holds text in Python, a Fernet token in the database. Empty stays empty."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_lookup(self, lookup_name):
        if lookup_name not in ("isnull", "exact"):
            raise TypeError(
                f"An encrypted field cannot be filtered with {lookup_name!r}."
            )
        return super().get_lookup(lookup_name)
