"""gunicorn's configuration for AdvisorOS in production (and `make prod`).

    gunicorn -c deploy/gunicorn.conf.py advisoros.wsgi:application

WSGI on purpose: gunicorn reads an upload from the socket in 1 MiB blocks and
Django streams it to a temporary file while it arrives (documents.upload),
where Django under ASGI copies the whole body first (docs/decisions.md).

Threads (gthread): each worker process serves GUNICORN_THREADS requests at
once, a slow upload or download never holding a whole process; with DB_POOL
each process keeps a pool of that many connections (advisoros.dbpool). Every
value is read from the environment, with a default for one small host.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A 2 GB upload on a slow line takes long; the worker is busy reading it, not stuck.
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# A fresh worker now and then: memory a long-lived process gathers is given back.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Each worker imports the application itself (no preload): no database
# connection, pool or thread is ever shared across a fork.
preload_app = False
# The TLS proxy in front sets X-Forwarded-*; gunicorn trusts it from these only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS") or "127.0.0.1"
# No access log of gunicorn's own: its request line carries the query string
# (searches hold names and tax ids) and the tokens of invitation and reset
# links. The application writes the access lines (LOG_REQUESTS, on with
# LOG_FORMAT=json: advisoros.ops.logs), with the query string left out and
# the tokens hidden.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# Temporary files of uploads go where Django puts them (FILE_UPLOAD_TEMP_DIR);
# gunicorn's heartbeat files in memory rather than on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108


def on_starting(server) -> None:
    """Refuse to start when `check --deploy` finds an error (advisoros.checks: a
    cache that is not shared, ...): a production start is a deploy check too."""
    import django
    from django.core import checks
    from django.db import connections

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisoros.settings")
    django.setup()
    try:
        errors = [
            message
            for message in checks.run_checks(include_deployment_checks=True)
            if message.level >= checks.ERROR and not message.is_silenced()
        ]
    finally:
        # Some checks read the server's version: that connection, and the pool
        # it opened (DB_POOL, with its threads), must not be forked into the
        # workers, which would wait forever for a pool that cannot grow.
        for connection in connections.all(initialized_only=True):
            connection.close()
            connection.close_pool()
    if errors:
        for message in errors:
            server.log.error("%s", message)
        raise SystemExit("AdvisorOS: the deploy check found errors; not starting.")


def post_worker_init(worker) -> None:
    """The worker has imported the application: tune its garbage collector for
    requests (advisoros.gc_tuning)."""
    from advisoros.gc_tuning import gc_tune

    gc_tune()
