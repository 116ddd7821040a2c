"""Production settings: Django's deploy check passes with production values, and a
missing secret stops the process before it serves anything.

Each run is a fresh `manage.py` process, because settings are read once at start.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "advisoros.example.com",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    # The console mailer is development-only (mail.E001): production names a server.
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    # One cache for every process on every host (advisoros.checks); not reached here.
    "CACHE_URL": "redis://cache.example.com:6379/1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # DATABASE_URL is the one this test run uses; the rest is replaced.
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, MANAGE, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )


def test_the_deploy_check_passes_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output


def test_it_refuses_to_start_in_production_without_a_secret_key():
    # An empty value also hides any DJANGO_SECRET_KEY in a local .env file.
    result = manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_it_refuses_to_start_in_production_without_allowed_hosts():
    result = manage("check", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": ""})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_it_refuses_to_start_in_production_without_encryption_keys():
    result = manage("check", **{**PRODUCTION, "FIELD_ENCRYPTION_KEYS": ""})

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_leaves_the_benchmark_out_unless_bench_is_true():
    # `help run_bench` knows the command only where the bench app is installed.
    without = manage("help", "run_bench", **PRODUCTION, BENCH="false")
    with_bench = manage("help", "run_bench", **PRODUCTION, BENCH="true")

    assert without.returncode != 0
    assert "Unknown command: 'run_bench'" in without.stderr
    assert with_bench.returncode == 0, with_bench.stderr
    assert "Django's floor" in with_bench.stdout


def test_it_refuses_to_start_in_production_with_the_development_secret_key():
    result = manage(
        "check", **{**PRODUCTION, "DJANGO_SECRET_KEY": settings.DEV_SECRET_KEY}
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is the development key" in result.stderr


def test_it_refuses_a_short_audit_chain_key():
    result = manage("check", **{**PRODUCTION, "AUDIT_CHAIN_KEY": "short"})

    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY is too short" in result.stderr


@pytest.mark.parametrize(
    ("cache_url", "what"),
    [
        ("filecache:///var/tmp/advisoros-cache", "files on one host's disk"),
        ("locmemcache://", "kept in each process's memory"),
    ],
    ids=["file", "locmem"],
)
def test_the_deploy_check_refuses_a_cache_that_is_not_shared(cache_url, what):
    result = manage("check", "--deploy", **{**PRODUCTION, "CACHE_URL": cache_url})

    assert result.returncode != 0
    assert "advisoros.E001" in result.stderr
    assert what in result.stderr
    assert "Set CACHE_URL to the Redis or Valkey" in result.stderr


def test_a_redis_cache_that_never_answers_fails_a_call_within_its_timeout():
    """CACHE_URL's Redis taking connections and never replying: a cache call (a
    session read, on every signed-in request) fails in CACHE_TIMEOUT seconds,
    not in redis-py's 5 or never."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        started = time.monotonic()
        done = manage(
            "shell",
            "-c",
            "from django.core.cache import cache\n"
            "try:\n    cache.get('x')\nexcept Exception as exc:\n"
            "    print('failed:', type(exc).__name__)",
            CACHE_URL=f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
            CACHE_TIMEOUT="0.5",
            DJANGO_DEBUG="true",
        )
        took = time.monotonic() - started

    assert "failed: TimeoutError" in done.stdout, done.stdout + done.stderr
    assert took < 4.5  # the process's start and the half-second timeout
