"""Killing a django-q2 worker in the middle of a job, for any job.

`qcluster(tmp_path, **env)` starts a real `manage.py qcluster` on the test
database (ORM broker, one worker) and always stops it. `kill_worker_when(...)`
waits until the job is at a known point (`reached()`, read from the database),
then SIGKILLs the worker process running it, as `kill -9` or the kernel's
out-of-memory killer would: no Python cleanup, no result stored, its database
connection dropped (PostgreSQL rolls back its open transaction and frees its
advisory locks).

Which process: the cluster's sentinel starts the workers, a monitor and a
pusher; each worker names itself in its process title (setproctitle, which
django-q2 uses when installed): `qcluster Process-1:1 processing <task> '<func>'`.
The sentinel then starts a new worker, and the ORM broker hands the job out
again once its lock (`retry` seconds from when it was taken: Q_RETRY, or
Q_OCR_RETRY for the OCR cluster) has passed. Each test lowers `retry` so that
this happens within seconds.

A new kind of job (the billing webhooks) needs only its own `reached` and its
own check that the effect happened once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from tests.workflows.test_qcluster import _database_url, _stop

DEADLINE_SECONDS = 60  # generous: two cores shared with other people's tests
POLL_SECONDS = 0.1


@dataclass
class Cluster:
    process: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def busy_workers(self) -> list[psutil.Process]:
        """The cluster's worker processes running a task now."""
        busy = []
        with suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    title = " ".join(child.cmdline())
                    if title.startswith("qcluster ") and " processing " in title:
                        busy.append(child)
        return busy


@contextmanager
def qcluster(tmp_path: Path, **env: str) -> Iterator[Cluster]:
    """A `manage.py qcluster` with one worker, stopped (SIGKILL as a last resort)
    however the test ends. `env` adds to or overrides its environment."""
    log_path = tmp_path / f"qcluster-{time.monotonic_ns()}.log"
    base = {k: v for k, v in os.environ.items() if k != "Q_CLUSTER_NAME"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env={
                **base,
                "DJANGO_SETTINGS_MODULE": "advisoros.settings",  # not sync
                "DJANGO_DEBUG": "true",
                "DATABASE_URL": _database_url(),
                "Q_WORKERS": "1",
                "Q_OCR_WORKERS": "1",
                "DB_CONN_MAX_AGE": "0",
                "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers included
        )
    try:
        yield Cluster(process=process, log=log_path)
    finally:
        _stop(process)


def wait_for(
    condition: Callable[[], object],
    cluster: Cluster,
    what: str,
    timeout: float = DEADLINE_SECONDS,
):
    """Poll `condition` until it is truthy (returned), failing after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if cluster.process.poll() is not None:
            pytest.fail(f"the cluster exited; its log:\n{cluster.log_tail()}")
        time.sleep(POLL_SECONDS)
    pytest.fail(
        f"{what}: not within {timeout} s; the cluster's log:\n{cluster.log_tail()}"
    )


def kill_worker_when(
    cluster: Cluster, reached: Callable[[], bool], what: str
) -> psutil.Process:
    """SIGKILL the worker running a task once `reached()` is true; returns it
    (dead). Programs the worker started (tesseract) are killed after it, so they
    do not hold a core while the test waits."""

    def busy_at_point() -> psutil.Process | None:
        workers = cluster.busy_workers()
        return workers[0] if len(workers) == 1 and reached() else None

    worker = wait_for(busy_at_point, cluster, what)
    children = worker.children(recursive=True)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.kill()
    return worker
