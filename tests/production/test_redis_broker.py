"""Jobs on Redis, as in production (advisoros.tenancy.redis_queue): real
`qcluster` processes with the Redis broker settings against the test database,
and the queue's own promises (a lost job handed out again, a retry due at its
time, a job with its record queued only once the record commits).

Redis is this machine's (127.0.0.1:6379) or one started for the session
(advisoros.localparts); every test has a key prefix of its own, removed after
it, so parallel workers and other people's runs never meet.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Task as QTask
from django_q.tasks import async_task

from advisoros.localparts import local_redis, redis_forget
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import JobFailure
from advisoros.tenancy.redis_queue import RedisQueue
from advisoros.tenancy.tasks import ADAPTER, enqueue_with_record
from tests.workflows.test_qcluster import FAILING, REPORT, _wait_for

NAP = "tests.production.test_redis_broker.counted_nap"


def counted_nap(*, organization, key: str, seconds: float) -> None:
    """A job that notes each of its runs in Redis, then takes `seconds`."""
    redis.from_url(settings.Q_REDIS_URL).rpush(key, os.getpid())
    time.sleep(seconds)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    with local_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_settings(redis_url, settings):
    """This process's broker settings: the Redis URL and a prefix of this test's own."""
    settings.Q_REDIS_URL = redis_url
    settings.Q_REDIS_PREFIX = f"advisoros-test-{uuid.uuid4().hex}"
    yield settings
    redis_forget(redis_url, settings.Q_REDIS_PREFIX)


@pytest.fixture
def redis_cluster(start_qcluster, redis_settings):
    """Start a `qcluster` on the Redis broker (env: Q_CLUSTER_NAME=ocr ...)."""

    def start(**env: str):
        return start_qcluster(
            Q_REDIS_URL=redis_settings.Q_REDIS_URL,
            Q_REDIS_PREFIX=redis_settings.Q_REDIS_PREFIX,
            **env,
        )

    return start


@pytest.mark.django_db(transaction=True)
def test_clusters_on_redis_run_jobs_retry_a_failing_one_and_show_its_failure(
    cast, redis_cluster, client
):
    default, ocr = RedisQueue(list_key="advisoros"), RedisQueue(list_key="ocr")
    # Queued the way a Redis site queues (the suite's own settings are sync).
    queue = {"broker": default, "sync": False}
    ok_id = async_task(ADAPTER, REPORT, cast.beta.pk, {"note": "hi"}, **queue)
    async_task(ADAPTER, FAILING, cast.alpha.pk, {"ledger_id": 7}, **queue)
    ocr_id = async_task(
        ADAPTER, REPORT, cast.alpha.pk, {"note": "scan"}, broker=ocr, sync=False
    )
    assert (default.queue_size(), ocr.queue_size()) == (2, 1)

    log = redis_cluster()
    ocr_log = redis_cluster(Q_CLUSTER_NAME="ocr")

    # Generous bounds: a loaded machine starts a cluster slowly; a quick one
    # returns at once.
    ran = _wait_for(lambda: QTask.objects.filter(id=ok_id).first(), log, timeout=90)
    assert ran.success, ran.result
    assert ran.result["setting"] == str(cast.beta.pk)  # its firm, in the worker
    assert ran.result["scoped_count"] == ran.result["raw_count"] == 1
    # Each cluster takes from its own list: the OCR job ran in the OCR cluster.
    scanned = _wait_for(
        lambda: QTask.objects.filter(id=ocr_id).first(), ocr_log, timeout=90
    )
    assert scanned.cluster == "ocr" and scanned.result["note"] == "scan"

    def failure_recorded():
        with tenant_context(cast.alpha):
            return JobFailure.objects.filter(organization=cast.alpha).first()

    failure = _wait_for(failure_recorded, log, timeout=60)
    assert failure.attempts == 3
    assert "RuntimeError: ledger 7 is offline" in failure.error
    tries = list(QTask.objects.filter(success=False).order_by("stopped"))
    assert [t.args[3] if len(t.args) > 3 else 1 for t in tries] == [1, 2, 3]
    # Each retry waited its backoff in the delayed set (1 s, then 2 s).
    assert (tries[1].stopped - tries[0].stopped).total_seconds() >= 0.9
    assert (tries[2].stopped - tries[1].stopped).total_seconds() >= 1.9
    # The firm's owner sees it on the failed-jobs page.
    client.force_login(cast.alice)
    page = client.get("/o/alpha/jobs/failed/")
    assert page.status_code == 200
    assert b"ledger 7 is offline" in page.content
    # Every package was acknowledged: nothing waits, nothing is held.
    _wait_for(lambda: default.lock_size() == 0, log, timeout=20)
    assert default.queue_size() == default.delayed_size() == 0
    assert not default.connection.hlen(default._key("payloads"))


@pytest.mark.django_db(transaction=True)
def test_jobs_queued_behind_a_busy_worker_each_run_once(cast, redis_cluster):
    # One worker, timeout 2 s, retry 3 s; five jobs of 1.8 s. The pusher takes
    # the third while the first runs: it starts about 3.6 s after it was taken,
    # past `retry`, and must not be handed out again meanwhile.
    queue = RedisQueue(list_key="advisoros")
    keys = [f"{settings.Q_REDIS_PREFIX}:ran:{n}" for n in range(5)]
    for key in keys:
        async_task(
            ADAPTER,
            NAP,
            cast.alpha.pk,
            {"key": key, "seconds": 1.8},
            broker=queue,
            sync=False,
        )

    log = redis_cluster(Q_WORKERS="1", Q_TIMEOUT="2", Q_RETRY="3")

    def all_done():
        ran = all(queue.connection.llen(key) for key in keys)
        return ran and queue.queue_size() == queue.lock_size() == 0

    _wait_for(all_done, log, timeout=90)
    time.sleep(2)  # a second run, if any, would have started by now
    assert [queue.connection.llen(key) for key in keys] == [1, 1, 1, 1, 1]


@pytest.fixture
def eager_queue(redis_settings, monkeypatch) -> RedisQueue:
    """The default queue, with django-q2's conf read as a Redis site's would be;
    a lost package is due again at once and an empty poll does not wait."""
    monkeypatch.setattr(Conf, "RETRY", 0)
    monkeypatch.setattr(Conf, "POLL", 0)
    return RedisQueue(list_key="advisoros")


def test_a_job_whose_worker_vanished_is_handed_out_again_until_acknowledged(
    eager_queue,
):
    task_id = eager_queue.enqueue("package")

    [(first_id, payload)] = eager_queue.dequeue()
    assert (first_id.decode(), payload) == (task_id, b"package")
    assert (eager_queue.queue_size(), eager_queue.lock_size()) == (0, 1)
    assert eager_queue.started(first_id)  # a worker runs it (pre_execute)
    # No acknowledgement within `retry` (0 s here) of its start: handed out again.
    [(again_id, _)] = eager_queue.dequeue()
    assert again_id == first_id

    eager_queue.acknowledge(again_id)
    assert eager_queue.dequeue() is None
    assert eager_queue.lock_size() == 0


def test_a_job_waiting_in_its_cluster_is_not_handed_out_again_before_it_starts(
    eager_queue, monkeypatch
):
    # The pusher took it ahead of a busy worker; `retry` (0 s) has long passed,
    # but no worker has started it: another cluster must not take it too.
    monkeypatch.setattr(Conf, "TIMEOUT", 60)
    eager_queue.enqueue("waiting")
    [(task_id, _)] = eager_queue.dequeue()

    assert eager_queue.dequeue() is None
    score = eager_queue.connection.zscore(eager_queue._key("inflight"), task_id)
    assert score - time.time() > 60  # at least one job's run ahead of it

    eager_queue.acknowledge(task_id)
    assert not eager_queue.started(task_id)  # acknowledged: nothing to extend


def test_a_delayed_job_is_handed_out_only_once_due(eager_queue):
    eager_queue.enqueue_at("later", timezone.now() + timedelta(hours=1))
    eager_queue.enqueue_at("due", timezone.now() - timedelta(seconds=1))

    [(task_id, payload)] = eager_queue.dequeue()
    assert payload == b"due"
    eager_queue.acknowledge(task_id)
    assert eager_queue.dequeue() is None
    assert eager_queue.delayed_size() == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_with_its_record_is_queued_on_redis_only_once_the_record_commits(
    cast, eager_queue, monkeypatch
):
    # This process's django-q2 as production's: Redis broker, not sync.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(
        Conf, "BROKER_CLASS", "advisoros.tenancy.redis_queue.RedisQueue"
    )

    with transaction.atomic():
        enqueue_with_record(REPORT, cast.alpha, note="kept")
        assert eager_queue.queue_size() == 0  # nothing before the commit
    assert eager_queue.queue_size() == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_with_record(REPORT, cast.alpha, note="rolled back")
        raise RuntimeError("the record was refused")
    assert eager_queue.queue_size() == 1  # the rolled-back record queued nothing
