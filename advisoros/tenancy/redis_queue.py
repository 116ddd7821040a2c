"""django-q2's queue on Redis (or Valkey) in production, with the two promises the
ORM broker keeps and django-q2's own Redis broker does not:

- **A job taken is not a job lost.** django-q2's Redis broker pops a package
  off the list: a worker killed in the middle (out of memory, `kill -9`, a host
  lost) takes the job with it. Here a package taken for running waits in an
  in-flight set until the monitor acknowledges its result; one not
  acknowledged within `retry` seconds (the cluster's `Q_CLUSTER["retry"]`)
  of its start is handed out again, as the ORM broker's lock does.
- **A job waiting in a cluster is not handed out twice.** A cluster's pusher
  takes packages ahead of its workers (up to `queue_limit`, workers squared,
  plus the one in its hand), so a package may wait behind jobs that each run
  up to `timeout`: a long OCR page, a slow import. Its in-flight deadline at
  take is therefore `hold_seconds()`: the longest it can wait there, plus
  `retry`; when a worker starts it (django-q2's `pre_execute`, `job_started`),
  the deadline becomes `retry` from then. A worker killed mid-job is answered
  after `retry`; a whole cluster lost (its host), after the hold.
- **A retry waits its backoff exactly** (advisoros.tenancy.tasks.enqueue_later):
  a package can be put in a delayed set, due at a time, and is moved to its
  list within one poll of that time; no one-off Schedule that the scheduler
  reads only every 30 s.

Keys, per queue (`list_key`: the cluster's name, "advisoros" or "ocr"), all
under `settings.Q_REDIS_PREFIX` so that several installations (or test runs)
share one Redis without meeting:

    <prefix>:<queue>:q         list of ids waiting, oldest first
    <prefix>:<queue>:delayed   sorted set id -> due time (epoch seconds)
    <prefix>:<queue>:inflight  sorted set id -> time its worker must have answered by
    <prefix>:<queue>:payloads  hash id -> signed package

Every move between them is one Lua script on the Redis server, with the
server's clock (`TIME`): hosts whose clocks differ agree on what is due, and a
pusher that dies half-way leaves nothing half-moved.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import datetime

import redis
from django.conf import settings
from django_q.brokers import Broker
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.signals import pre_execute

logger = logging.getLogger(__name__)

# settings.Q_CLUSTER["broker_class"] when Q_REDIS_URL is set.
BROKER_CLASS = f"{__name__}.RedisQueue"

# django-q2's guard kills a worker 3 s after its timeout, checking every
# `guard_cycle` (0.5 s); then the next job starts. A margin over both.
_TIMEOUT_MARGIN_SECONDS = 5

# KEYS: queue, delayed, inflight, payloads. ARGV: hold seconds (how long a taken
# package waits for its acknowledgement before it is handed out again), how many
# to take.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('RPUSH', KEYS[1], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
end
local taken = {}
for _ = 1, tonumber(ARGV[2]) do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  local payload = redis.call('HGET', KEYS[4], id)
  if payload then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), id)
    table.insert(taken, id)
    table.insert(taken, payload)
  end
end
return taken
"""

# KEYS: inflight. ARGV: retry seconds, id. A worker starts the package: its
# deadline becomes `retry` from now, if it is still in flight (not acknowledged,
# not already handed out again).
_START = """
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return 1
"""


def hold_seconds() -> float:
    """How long a package taken by this process's cluster may wait before it is
    handed out again: its pusher holds up to `queue_limit` packages and one in
    hand, each waiting behind the `workers` running ones; each job runs up to
    `timeout`; then `retry` for the last one's own run and acknowledgement."""
    workers = max(1, int(Conf.WORKERS))
    # settings.Q_CLUSTER sets no queue_limit: django-q2's default, workers squared.
    waiting = int(Conf.QUEUE_LIMIT or workers**2) + 1
    rounds = math.ceil((workers + waiting - 1) / workers)
    timeout = (Conf.TIMEOUT or 0) + _TIMEOUT_MARGIN_SECONDS
    return rounds * timeout + Conf.RETRY


class RedisQueue(Redis):
    """The broker named by `Q_CLUSTER["broker_class"]` when Q_REDIS_URL is set."""

    def __init__(self, list_key: str | None = None):
        # Not Redis.__init__: it names the list "django_q:<key>:q", shared by
        # every site on the server.
        Broker.__init__(self, list_key=list_key or Conf.CLUSTER_NAME)
        self._register()

    def __setstate__(self, state):
        super().__setstate__(state)
        self._register()

    def _register(self) -> None:
        self._take = self.connection.register_script(_TAKE)
        self._start = self.connection.register_script(_START)

    @staticmethod
    def get_connection(list_key: str | None = None) -> redis.Redis:
        return redis.from_url(settings.Q_REDIS_URL)

    def _key(self, part: str) -> str:
        return f"{settings.Q_REDIS_PREFIX}:{self.list_key}:{part}"

    @property
    def keys(self) -> list[str]:
        return [self._key(p) for p in ("q", "delayed", "inflight", "payloads")]

    def enqueue(self, task) -> str:
        task_id = uuid.uuid4().hex
        with self.connection.pipeline() as pipe:  # MULTI/EXEC: both or neither
            pipe.hset(self._key("payloads"), task_id, task)
            pipe.rpush(self._key("q"), task_id)
            pipe.execute()
        return task_id

    def enqueue_at(self, task, not_before: datetime) -> str:
        """Put `task` in the queue, to be handed out no sooner than `not_before`."""
        task_id = uuid.uuid4().hex
        with self.connection.pipeline() as pipe:
            pipe.hset(self._key("payloads"), task_id, task)
            pipe.zadd(self._key("delayed"), {task_id: not_before.timestamp()})
            pipe.execute()
        return task_id

    def dequeue(self):
        taken = self._take(keys=self.keys, args=[hold_seconds(), Conf.BULK])
        if taken:
            return list(zip(taken[0::2], taken[1::2], strict=True))
        time.sleep(Conf.POLL)  # nothing due: spare the server and the core
        return None

    def started(self, task_id) -> bool:
        """A worker starts `task_id`: acknowledged within `retry` seconds from
        now, or handed out again. False when it is no longer in flight."""
        return bool(
            self._start(keys=[self._key("inflight")], args=[Conf.RETRY, task_id])
        )

    def acknowledge(self, task_id) -> None:
        with self.connection.pipeline() as pipe:
            pipe.zrem(self._key("inflight"), task_id)
            pipe.hdel(self._key("payloads"), task_id)
            pipe.execute()

    def delete(self, task_id) -> None:
        self.acknowledge(task_id)

    def fail(self, task_id) -> None:
        self.acknowledge(task_id)

    def queue_size(self) -> int:
        return self.connection.llen(self._key("q"))

    def lock_size(self) -> int:
        return self.connection.zcard(self._key("inflight"))

    def delayed_size(self) -> int:
        return self.connection.zcard(self._key("delayed"))

    def purge_queue(self) -> int:
        return self.connection.delete(*self.keys)

    def delete_queue(self) -> int:
        return self.purge_queue()


class DelayedRedisQueue(RedisQueue):
    """The queue, putting each package in it due at `not_before` (a retry's backoff)."""

    def __init__(self, *, not_before: datetime, list_key: str | None = None):
        super().__init__(list_key=list_key)
        self.not_before = not_before

    def enqueue(self, task) -> str:
        return self.enqueue_at(task, self.not_before)


_started_queues: dict[str, RedisQueue] = {}


def job_started(sender, func, task: dict, **kwargs) -> None:
    """django-q2's `pre_execute`, in the worker about to run `task`: its in-flight
    deadline is counted from now (the module's docstring)."""
    ack_id = task.get("ack_id")
    if not ack_id or Conf.BROKER_CLASS != BROKER_CLASS:
        return  # sync mode, or another broker
    list_key = Conf.CLUSTER_NAME
    queue = _started_queues.get(list_key)
    if queue is None:
        queue = _started_queues[list_key] = RedisQueue(list_key=list_key)
    try:
        still_ours = queue.started(ack_id)
    except redis.RedisError:
        logger.exception("Could not extend the deadline of job %s", task.get("id"))
        return
    if not still_ours:
        logger.warning(
            "Job %s started after its deadline: it may run twice", task.get("id")
        )


pre_execute.connect(job_started, dispatch_uid="advisoros.redis_queue.job_started")
