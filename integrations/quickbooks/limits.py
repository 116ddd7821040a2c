"""Intuit's limits per company (realm), kept across processes and machines.

- **10 requests at once**: ten PostgreSQL advisory locks per realm, the slots.
  A request takes a free slot (`pg_try_advisory_lock`) for its duration and
  gives it back after. Session-level locks: the server frees them when a
  process dies, so a killed worker never leaks a slot, and they are not
  transactional, so a request inside a transaction holds its slot only while
  it runs. Every process that calls Intuit already talks to this database;
  nothing else to run.
- **500 requests a minute**: a counter per realm and clock minute in Django's
  cache (`add` then `incr`). On Redis (CACHE_URL in production, shared by all
  machines) `incr` is atomic; on the development file cache it is close
  enough for one machine. A counter in a table would be written inside the
  caller's transaction and hold its row lock until the caller commits, which
  serialises every process behind the slowest sync.

A request that finds no slot or no budget waits (polling) rather than being
refused: Intuit's answer to excess is a 429, which costs more.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05
MAX_WAIT_SECONDS = 120.0


class LimitWaitExceeded(Exception):
    """No slot or budget came free in time."""


def _lock_key(realm_id: str, slot: int) -> int:
    digest = hashlib.blake2b(f"qbo:{realm_id}:{slot}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class RealmLimiter:
    """`with RealmLimiter(realm).slot(): ...` around each request to Intuit."""

    def __init__(
        self,
        realm_id: str,
        *,
        concurrency: int | None = None,
        per_window: int | None = None,
        window_seconds: int = 60,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.realm_id = realm_id
        self.concurrency = concurrency or settings.QUICKBOOKS_CONCURRENCY
        self.per_window = per_window or settings.QUICKBOOKS_RATE_PER_MINUTE
        self.window_seconds = window_seconds
        self.max_wait = max_wait

    @contextmanager
    def slot(self) -> Iterator[None]:
        deadline = time.monotonic() + self.max_wait
        key = self._take_slot(deadline)
        try:
            self._spend(deadline)
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])

    def _take_slot(self, deadline: float) -> int:
        slots = list(range(self.concurrency))
        while True:
            random.shuffle(slots)  # noqa: S311 (spreading, not secrecy)
            with connection.cursor() as cursor:
                for slot in slots:
                    key = _lock_key(self.realm_id, slot)
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                    if cursor.fetchone()[0]:
                        return key
            if time.monotonic() > deadline:
                raise LimitWaitExceeded(
                    f"No free request slot for QuickBooks company {self.realm_id}."
                )
            time.sleep(POLL_SECONDS)

    def _spend(self, deadline: float) -> None:
        while True:
            now = time.time()
            window = int(now // self.window_seconds)
            key = f"qbo:rate:{self.realm_id}:{window}"
            cache.add(key, 0, timeout=self.window_seconds * 2)
            try:
                used = cache.incr(key)
            except ValueError:  # expired between add and incr: a new window
                continue
            if used <= self.per_window:
                return
            wait = (window + 1) * self.window_seconds - now
            if time.monotonic() + wait > deadline:
                raise LimitWaitExceeded(
                    f"QuickBooks company {self.realm_id} used its "
                    f"{self.per_window} requests of this minute."
                )
            logger.info(
                "QuickBooks company %s: minute's budget spent; waiting %.1f s",
                self.realm_id,
                wait,
            )
            time.sleep(wait)
