"""Progress of long background jobs, for pages that show it while they wait.

A job runs in a django-q2 worker inside one database transaction (an import is
all or nothing), so its progress cannot be read from the database until it
ends. It is kept in the cache instead, which the web processes share with the
workers: a file cache under var/ on one machine, Redis (CACHE_URL) across
several. Progress is a hint for people; nothing depends on it being there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.cache import cache

TIMEOUT = 60 * 60 * 6


@dataclass
class Progress:
    done: int
    total: int
    stage: str = ""

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0


def _key(job_key: str) -> str:
    return f"advisoros:progress:{job_key}"


def progress_report(job_key: str, *, done: int, total: int, stage: str = "") -> None:
    cache.set(_key(job_key), asdict(Progress(done, total, stage)), TIMEOUT)


def progress_read(job_key: str) -> Progress | None:
    data = cache.get(_key(job_key))
    return Progress(**data) if data else None


def progress_clear(job_key: str) -> None:
    cache.delete(_key(job_key))
