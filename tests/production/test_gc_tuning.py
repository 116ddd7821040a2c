"""gunicorn's workers tune the garbage collector once the application is loaded
(advisoros.gc_tuning): what is loaded is frozen out of its sight and the first
generation holds GC_GEN0_THRESHOLD objects. Each case runs in a process of its
own, the suite's own collector left as it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

CONF = str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py")
PROBE = f"""
import gc, json, runpy
conf = runpy.run_path({CONF!r})
before = gc.get_threshold()
frozen = gc.get_freeze_count()
conf["post_worker_init"](None)
print(json.dumps({{"before": before, "after": gc.get_threshold(),
                   "frozen": gc.get_freeze_count() - frozen}}))
"""


def _probe(**env: str) -> dict:
    done = subprocess.run(  # noqa: S603 (our own probe)
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_freezes_what_is_loaded_and_collects_less_often():
    seen = _probe(GC_GEN0_THRESHOLD="")

    assert seen["before"][0] == 700  # Python's default
    assert seen["after"] == [50_000, 20, 20]
    assert seen["frozen"] > 1_000


def test_a_threshold_of_zero_keeps_pythons_defaults():
    seen = _probe(GC_GEN0_THRESHOLD="0")

    assert seen["after"] == seen["before"]
    assert seen["frozen"] == 0
