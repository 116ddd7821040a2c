"""The full firm export (advisoros.tenancy.export): time and peak memory.

Each firm is exported by `manage.py export_firm <slug> --out <file>` in a
process of its own, so its peak resident memory (`ru_maxrss`, from `wait4`) is
the export's alone: the process starts, loads Django, streams the zip and ends.
The same is measured for `manage.py check` (Django loaded, nothing exported) as
the baseline. Memory must be flat in firm size: the target is a peak at
100,000 clients within `TARGET_GROWTH_MB` of the smallest firm's.

Firms: `demo` when the demo data is in this database (`manage.py seed_demo`),
then the page benchmark's bench-1k and bench-100k (seeded by `make bench`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from bench.harness import MeasureSkipped, register_measure

FIRMS = ("demo", "bench-1k", "bench-100k")
TARGET_GROWTH_MB = 32.0
WORKDIR = Path(settings.BASE_DIR) / "var" / "bench" / "export"


def _run(args: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MB of `manage.py <args>` in a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        error = process.stderr.read().decode()[-2000:] if process.stderr else ""
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {error}")
    return seconds, usage.ru_maxrss / 1024  # kilobytes on Linux


def _clients(organization: Organization) -> int:
    from django.apps import apps

    client_model = apps.get_model("clients", "Client")
    with tenant_context(organization):
        return client_model.objects.filter(organization=organization).count()


@register_measure("firm_export")
def firm_export(*, stdout) -> list[dict]:
    firms = [
        o for slug in FIRMS if (o := Organization.objects.filter(slug=slug).first())
    ]
    if not firms:
        raise MeasureSkipped("no demo or bench firm in this database: run make bench")
    WORKDIR.mkdir(parents=True, exist_ok=True)
    _, baseline_mb = _run(["check"])
    records = [
        {
            "name": "firm_export.baseline_peak_mb",
            "value": round(baseline_mb, 1),
            "unit": "MB",
        }
    ]
    peaks = []
    for organization in firms:
        size = _clients(organization)
        out = WORKDIR / f"{organization.slug}.zip"
        seconds, peak_mb = _run(["export_firm", organization.slug, "--out", str(out)])
        zip_mb = out.stat().st_size / 1024 / 1024
        out.unlink()
        peaks.append(peak_mb)
        stdout.write(
            f"  {organization.slug}: {size} clients, {seconds:.1f} s, peak "
            f"{peak_mb:.0f} MB (Django alone {baseline_mb:.0f} MB), zip {zip_mb:.1f} MB"
        )
        records += [
            {
                "name": f"firm_export.{organization.slug}.seconds",
                "value": round(seconds, 2),
                "unit": "s",
                "dataset_size": size,
            },
            {
                "name": f"firm_export.{organization.slug}.peak_mb",
                "value": round(peak_mb, 1),
                "unit": "MB",
                "dataset_size": size,
            },
            {
                "name": f"firm_export.{organization.slug}.zip_mb",
                "value": round(zip_mb, 1),
                "unit": "MB",
                "dataset_size": size,
            },
        ]
    growth = max(peaks) - min(peaks)
    record = {
        "name": "firm_export.peak_growth_mb",
        "value": round(growth, 1),
        "unit": "MB",
    }
    if growth > TARGET_GROWTH_MB:
        record["missed"] = f"peak memory grows by at most {TARGET_GROWTH_MB:g} MB"
    records.append(record)
    return records
