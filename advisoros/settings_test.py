"""Test settings: the production module plus what only tests need."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from advisoros.settings import *  # noqa: E402,F403
from advisoros.settings import INSTALLED_APPS, Q_CLUSTER  # noqa: E402

# django-q2 reads its conf at import: sync mode must be set here, not by override_settings.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

# The benchmark's tests (tests/test_bench.py ...) need its app, whatever DEBUG says.
if "bench" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

# Argon2 is the production hasher (settings.PASSWORD_HASHERS); tests hash fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Each test process its own memory cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
