"""/healthz and /readyz: real failures of each part, never a mock.

Each failing part is a real one: a database alias, a Redis and an S3 endpoint
on a loopback port nothing listens on, a file store whose folder cannot exist.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.db import connections
from redis.backoff import NoBackoff
from redis.retry import Retry

from advisoros.localparts import local_redis, redis_forget
from tests.conftest import BUCKET, KEYS, REGION
from tests.faults.servers import free_port

ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def database_down(transactional_db):
    """The database on a loopback port nothing listens on: the default
    connection's own settings, pointed away for the test (no test transaction
    to lose, hence transactional_db), then back."""
    connection = connections["default"]
    original = connection.settings_dict
    connection.close()
    connection.settings_dict = {
        **original,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    yield connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict = original


def readyz(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Cache-Control"] == "no-store"
    return response.status_code, json.loads(response.content)


def test_healthz_answers_without_touching_the_database(client, settings):
    # No `db` fixture: a query would fail the test.
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz", HTTP_HOST="10.1.2.3")

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "Set-Cookie" not in response


def test_readyz_says_ok_when_every_part_answers(db, client):
    assert readyz(client) == (200, {"status": "ok", "checks": ALL_OK})


def test_the_probes_refuse_writes(client):
    assert client.post("/readyz").status_code == 405
    assert client.post("/healthz").status_code == 405


def test_readyz_names_the_database_and_its_orm_broker_when_it_is_down(
    client, settings, database_down, caplog
):
    assert settings.Q_CLUSTER["orm"] == "default"  # the ORM broker is the database

    with caplog.at_level(logging.WARNING, logger="advisoros.ops.health"):
        status, body = readyz(client)

    assert status == 503
    assert body == {
        "status": "fail",
        "checks": {**ALL_OK, "database": "fail", "broker": "fail"},
    }
    # Why is in the log, for the operator; the caller learns only "fail".
    assert database_down not in json.dumps(body)
    assert f"port {database_down} failed" in caplog.text


def test_readyz_names_a_redis_broker_that_is_down(db, client, settings):
    conf = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}
    settings.Q_CLUSTER = {**conf, "redis": f"redis://127.0.0.1:{free_port()}/0"}

    status, body = readyz(client)

    assert status == 503
    assert body["checks"] == {**ALL_OK, "broker": "fail"}


def test_readyz_names_a_cache_that_is_down(db, client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            # As production should: a down cache fails at once, not after retries.
            "OPTIONS": {"retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 1},
        }
    }

    status, body = readyz(client)

    assert status == 503
    assert body["checks"] == {**ALL_OK, "cache": "fail"}


def test_readyz_names_a_file_store_that_cannot_be_written(
    db, client, settings, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = str(blocker / "media")

    status, body = readyz(client)

    assert status == 503
    assert body["checks"] == {**ALL_OK, "storage": "fail"}


def _s3_storage(settings, endpoint: str, bucket: str = BUCKET) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "region_name": REGION,
                "endpoint_url": endpoint,
                **KEYS,
                "addressing_style": "path",
            },
        },
    }


def test_readyz_says_ok_when_the_s3_bucket_answers(db, client, settings, s3_endpoint):
    _s3_storage(settings, s3_endpoint)

    assert readyz(client) == (200, {"status": "ok", "checks": ALL_OK})


def test_readyz_names_an_s3_store_without_its_bucket(db, client, settings, s3_endpoint):
    _s3_storage(settings, s3_endpoint, bucket="no-such-bucket")

    status, body = readyz(client)

    assert status == 503
    assert body["checks"] == {**ALL_OK, "storage": "fail"}


def test_readyz_names_an_s3_store_that_does_not_answer(db, client, settings):
    _s3_storage(settings, f"http://127.0.0.1:{free_port()}")

    status, body = readyz(client)

    assert status == 503
    assert body["checks"] == {**ALL_OK, "storage": "fail"}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that takes connections (the kernel's backlog) and never
    answers: a Redis that is stuck, or a network that drops replies."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def readyz_within(client, seconds: float) -> tuple[int, dict, float]:
    """/readyz from another thread, given up on after `seconds` (the test fails
    rather than hangs); the answer and how long it took."""
    answer: list = []

    def ask() -> None:
        started = time.monotonic()
        try:
            answer.append((*readyz(client), time.monotonic() - started))
        finally:
            connections.close_all()  # this thread's own

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(seconds)
    assert answer, f"/readyz did not answer within {seconds} s"
    return answer[0]


def test_readyz_fails_fast_on_a_cache_that_never_answers(
    db, client, settings, silent_server
):
    # As the settings make it from CACHE_URL: redis-py's own 5 s socket timeout.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": silent_server,
        }
    }

    status, body, took = readyz_within(client, 10)

    assert (status, body["checks"]) == (503, {**ALL_OK, "cache": "fail"})
    assert took < 4


def test_readyz_fails_fast_on_a_redis_broker_that_never_answers(
    db, client, settings, silent_server
):
    conf = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}
    settings.Q_CLUSTER = {**conf, "redis": silent_server}

    status, body, took = readyz_within(client, 15)

    assert (status, body["checks"]) == (503, {**ALL_OK, "broker": "fail"})
    # The probe's own 2 s, not redis-py's default 5 s.
    assert took < 4


@pytest.fixture
def redis_parts(tmp_path) -> Iterator[tuple[str, str]]:
    """This machine's Redis (or one started here) on a spare database number,
    and a key prefix of this test's own, removed after it."""
    with local_redis(tmp_path / "redis") as url:
        spare = url.rsplit("/", 1)[0] + "/11"
        prefix = f"readyz-test-{uuid.uuid4().hex}"
        yield spare, prefix
        redis_forget(spare, prefix)


def test_readyz_says_ok_with_a_redis_broker_and_cache(
    db, client, settings, redis_parts
):
    url, prefix = redis_parts
    conf = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}
    settings.Q_CLUSTER = {
        **conf,
        "broker_class": "advisoros.tenancy.redis_queue.RedisQueue",
        "redis": url,
    }
    settings.Q_REDIS_URL = url
    settings.Q_REDIS_PREFIX = prefix
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }

    assert readyz(client) == (200, {"status": "ok", "checks": ALL_OK})
    # The cache's probe really went to that Redis, under the prefix.
    assert redis.from_url(url).keys(f"{prefix}:*readyz:probe")
