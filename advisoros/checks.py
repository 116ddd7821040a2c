"""Our own `check --deploy` checks: what Django's cannot know about AdvisorOS.

Run by `manage.py check --deploy` (make check-deploy, CI) and at every
production start: scripts/prod.py runs it, and the gunicorn configuration
(deploy/gunicorn.conf.py) refuses to start on an error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

# Caches that are not one for every process of the installation.
_NOT_SHARED = {
    "django.core.cache.backends.locmem.LocMemCache": "kept in each process's memory",
    "django.core.cache.backends.dummy.DummyCache": "a cache that keeps nothing",
    "django.core.cache.backends.filebased.FileBasedCache": (
        "files on one host's disk, which the web processes and workers of other "
        "hosts never see"
    ),
}


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs=None, **kwargs) -> list[Error]:
    """Production needs one cache for every web process and worker on every
    host: the progress of a job (advisoros.jobs) is written by a worker and read
    by a web process, QuickBooks's per-company rate limit is counted across all
    of them, and with several hosts the sessions live there too. A per-host file
    cache works on one machine only, so it is refused too: production is the
    shape that scales out, and the day a second host is added is not the day to
    find out."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in _NOT_SHARED:
        return []
    return [
        Error(
            f"The cache is {_NOT_SHARED[backend]} ({backend.rsplit('.', 1)[-1]}).",
            hint=(
                "Set CACHE_URL to the Redis or Valkey every web process and "
                "worker reaches, e.g. redis://cache.internal:6379/1 "
                "(docs/production.md)."
            ),
            id="advisoros.E001",
        )
    ]
