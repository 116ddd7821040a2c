"""Python's garbage collector tuned for a web process (gunicorn's workers, and
the bench, which measures pages as those workers serve them).

A statement of 2,000 accounts allocates some 100,000 objects a request, and
with CPython's default threshold (700 allocations) the collector ran dozens of
times a request, each pass walking the whole heap of the loaded application.
Once the application is imported, `gc.freeze()` moves its objects (modules,
URL patterns, templates, models) out of the collector's sight, and a first
generation of GC_GEN0_THRESHOLD objects lets a request's short-lived objects
die by reference counting before a collection starts. Measured on the
100,000-client bench firm: a statement page's CPU 61-74 ms -> 46-47 ms, the
dashboard's 35-42 ms -> 33.5 ms (docs/decisions.md). Cycles are still
collected, less often; GC_GEN0_THRESHOLD=0 keeps Python's defaults.
"""

from __future__ import annotations

import gc
import os

DEFAULT_GEN0 = 50_000


def gc_tune() -> bool:
    """Freeze what is loaded and raise the first generation's threshold (once
    the application is imported); False when GC_GEN0_THRESHOLD is 0."""
    gen0 = int(os.environ.get("GC_GEN0_THRESHOLD") or DEFAULT_GEN0)
    if gen0 <= 0:
        return False
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, 20, 20)
    return True
