"""`/healthz` and `/readyz`: what a load balancer, an orchestrator or a
monitoring probe asks.

- `/healthz`: the process is up and answers. No database, nothing else: a
  restart would not mend a dependency's outage, so liveness never depends on one.
- `/readyz`: every part a request needs answers: the database (each configured
  alias), the cache, the job broker (the ORM broker's table, or Redis) and the
  file store (the folder exists and is writable; the S3 bucket answers a HEAD).
  200 when all do, 503 naming which did not, within DEADLINE_SECONDS
  whatever a part does (the database: its connect_timeout).

Both are answered by `HealthCheckMiddleware`, first in settings.MIDDLEWARE:
before the HTTPS redirect (probes speak plain HTTP inside the network), the
host check (probes use the machine's address), sessions, two-factor and the
tenancy middleware; no login, no firm, no session row, no audit event. What
they tell anyone is only `ok`/`fail` per part: why a part failed (an address,
a driver's message) goes to the log, never to the caller (docs/deploy.md).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
READYZ_PATH = "/readyz"
# Every probe gives up after this many seconds (the database's own
# connect_timeout, settings.DB_CONNECT_TIMEOUT, bounds its check).
PROBE_TIMEOUT_SECONDS = 2
# What /readyz waits for the parts checked off the request's thread (below).
DEADLINE_SECONDS = PROBE_TIMEOUT_SECONDS + 0.5
CACHE_PROBE_KEY = "readyz:probe"


def check_database() -> None:
    """Each configured database answers a query."""
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def check_cache() -> None:
    cache = caches["default"]
    token = os.urandom(8).hex()
    cache.set(CACHE_PROBE_KEY, token, timeout=30)
    if cache.get(CACHE_PROBE_KEY) != token:
        raise RuntimeError("the cache did not return what was just stored")


def _redis_client(conf: str | dict):
    import redis

    options = {
        "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
        "socket_timeout": PROBE_TIMEOUT_SECONDS,
    }
    if isinstance(conf, str):
        return redis.Redis.from_url(conf, **options)
    return redis.Redis(**{**conf, **options})


def check_broker() -> None:
    """django-q2's broker, read from settings.Q_CLUSTER as django-q2 reads it:
    the ORM broker's queue table in its database, or Redis answering PING."""
    conf = settings.Q_CLUSTER
    if conf.get("orm"):
        from django_q.models import OrmQ

        OrmQ.objects.using(conf["orm"]).exists()
    elif conf.get("redis") is not None:
        client = _redis_client(conf["redis"])
        try:
            client.ping()
        finally:
            client.close()
    else:
        from django_q.brokers import get_broker

        if not get_broker().ping():
            raise RuntimeError("the broker did not answer")


@functools.cache
def _s3_probe_client(storage):
    """A client like the storage's own, but one attempt with short timeouts:
    boto3's retries would hold a probe for many seconds."""
    from botocore.config import Config

    config = storage.client_config.merge(
        Config(
            connect_timeout=PROBE_TIMEOUT_SECONDS,
            read_timeout=PROBE_TIMEOUT_SECONDS,
            retries={"total_max_attempts": 1},
        )
    )
    return storage._create_session().client(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=config,
        verify=storage.verify,
    )


def check_storage() -> None:
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        # Writable without writing: a probe each few seconds must not churn the disk.
        folder = Path(storage.location)
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise RuntimeError(f"{folder} is not a writable folder")
    elif hasattr(storage, "bucket_name"):
        _s3_probe_client(storage).head_bucket(Bucket=storage.bucket_name)
    else:
        storage.exists("readyz-probe")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def _on_request_thread(name: str) -> bool:
    """The checks that use Django's database connections, which belong to the
    thread that opened them: the database, and the ORM broker's table."""
    return name == "database" or (
        name == "broker" and bool(settings.Q_CLUSTER.get("orm"))
    )


def _run(name: str, check: Callable[[], None], results: dict[str, bool]) -> None:
    try:
        check()
    except Exception as exc:
        logger.warning("Readiness: %s failed: %s", name, exc)
        results[name] = False
    else:
        results[name] = True


def readiness() -> dict[str, bool]:
    """Each part's answer; a failure's reason is logged, not returned.

    A part that neither answers nor fails (a Redis that accepts the connection
    and never replies: Django's Redis cache waits redis-py's default 5 s, one
    after the other the parts added up past a load balancer's own timeout)
    must not hold the probe: the parts off the database run at once,
    each in a daemon thread, and one with no answer by the deadline is a
    failure. The database's checks run on the request's thread meanwhile,
    bounded by its connect_timeout."""
    results: dict[str, bool] = {}
    threads = {
        name: threading.Thread(
            target=_run, args=(name, check, results), daemon=True, name=f"readyz-{name}"
        )
        for name, check in CHECKS.items()
        if not _on_request_thread(name)
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    for name, check in CHECKS.items():
        if name not in threads:
            _run(name, check, results)
    for name, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            logger.warning(
                "Readiness: %s did not answer within %s s", name, DEADLINE_SECONDS
            )
            results[name] = False
    return {name: results.get(name, False) for name in CHECKS}


def _answer(body: dict, status: int) -> HttpResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return _answer({"status": "ok"}, 200)


def readyz(request: HttpRequest) -> HttpResponse:
    results = readiness()
    ready = all(results.values())
    return _answer(
        {
            "status": "ok" if ready else "fail",
            "checks": {name: "ok" if ok else "fail" for name, ok in results.items()},
        },
        200 if ready else 503,
    )


PROBES = {HEALTHZ_PATH: healthz, READYZ_PATH: readyz}


class HealthCheckMiddleware:
    """Answers the probes before anything else runs (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return probe(request)
