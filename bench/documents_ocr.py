"""OCR time per page: our pipeline against the `tesseract` command on the same pages.

The target (issue 4): the pipeline within 10% of running tesseract directly, both
with OMP_THREAD_LIMIT=1. Pages are full Letter pages of a bank statement at
300 dpi (documents.demo_scans), saved as PNG, as a scanner would. Timed:

- tesseract: `tesseract page.png -` (plain text out), as a person would run it;
- pipeline: what the OCR job does with an image file (documents.ocr: kind,
  page count, tesseract through pytesseract's `image_to_data` with the per-page
  timeout, words and lines back into text) plus the suggestion
  (documents.classify). Not timed: the job's few UPDATEs (progress, result),
  about a millisecond each.

Each page is measured both ways back to back, in alternating order, `ROUNDS`
times; a side's seconds per page is the median of its runs, and the overhead is
the median of the pipeline/tesseract ratios of those pairs (robust to a
neighbour's load, which falls on both runs of a pair alike). Both as wall-clock
time and as CPU time (ours plus the tesseract process's, from os.times()). The
machine is shared (two cores, other people's tests running): wall-clock time
swings by a third from one run of a page to the next, and CPU time by a fifth, so
the target is judged on the CPU ratio and the wall-clock figures are printed
beside it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import register_measure
from documents import classify, ocr
from documents.demo_scans import page_image, png_bytes, statement_page_lines
from documents.services.ocr import page_timeout

PAGES = 3
ROUNDS = 5
DPI = 300
TARGET_OVERHEAD_PCT = 10.0


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _timed(fn, path: Path) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    fn(path)
    return time.perf_counter() - wall, _cpu() - cpu


def _tesseract_direct(path: Path) -> None:
    subprocess.run(  # noqa: S603  (fixed arguments, our own file)
        [shutil.which("tesseract") or "tesseract", str(path), "-"],
        check=True,
        capture_output=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )


def _pipeline(path: Path) -> str:
    kind = ocr.file_kind("image/png")
    total = ocr.page_count(path, kind)
    pages = list(ocr.read_pages(path, kind, timeout=page_timeout()))
    text = "".join(page.text + ocr.PAGE_BREAK for page in pages)
    if len(pages) != total or "Riverside Savings Bank" not in text:
        raise RuntimeError(f"OCR of {path.name} lost its words: {text[:200]!r}")
    classify.suggest(text)
    return text


@register_measure("document_ocr")
def document_ocr(*, stdout) -> list[dict]:
    if shutil.which("tesseract") is None:
        stdout.write("tesseract is not installed: document_ocr skipped")
        return []
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for index in range(PAGES):
            path = Path(scratch) / f"page-{index + 1}.png"
            image = page_image(statement_page_lines(index), dpi=DPI)
            path.write_bytes(png_bytes(image, dpi=DPI))
            paths.append(path)
        # One (direct, pipeline) pair per page and round, measured back to back
        # and in alternating order, so a neighbour's load falls on both alike.
        pairs: list[tuple[tuple[float, float], tuple[float, float]]] = []
        for round_ in range(ROUNDS):
            for path in paths:
                if round_ % 2:
                    p = _timed(_pipeline, path)
                    d = _timed(_tesseract_direct, path)
                else:
                    d = _timed(_tesseract_direct, path)
                    p = _timed(_pipeline, path)
                pairs.append((d, p))

    records = []
    for which, clock in ((0, "wall"), (1, "cpu")):
        d = statistics.median(pair[0][which] for pair in pairs)
        p = statistics.median(pair[1][which] for pair in pairs)
        overhead = 100 * (
            statistics.median(pair[1][which] / pair[0][which] for pair in pairs) - 1
        )
        stdout.write(
            f"{clock}: tesseract {d:.3f} s/page, pipeline {p:.3f} s/page,"
            f" pipeline/tesseract median of {len(pairs)} pairs {overhead:+.1f}%"
        )
        records += [
            {
                "name": f"document_ocr.tesseract_{clock}_s_per_page",
                "value": round(d, 3),
                "unit": "s",
                "dataset_size": PAGES,
            },
            {
                "name": f"document_ocr.pipeline_{clock}_s_per_page",
                "value": round(p, 3),
                "unit": "s",
                "dataset_size": PAGES,
            },
            {
                "name": f"document_ocr.overhead_{clock}_pct",
                "value": round(overhead, 1),
                "unit": "%",
                "dataset_size": PAGES,
            },
        ]
    if overhead > TARGET_OVERHEAD_PCT:
        records[-1]["missed"] = (
            f"pipeline {overhead:.1f}% more CPU than tesseract per page (target 10%)"
        )
    return records
