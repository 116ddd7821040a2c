"""The documents app's benchmarks (found by advisoros.bench.discover)."""

from __future__ import annotations

from documents import bench_ocr, bench_search, bench_upload  # noqa: F401  (registrations)
