"""The full firm export (advisoros.tenancy.export): time and peak memory.

Each firm is exported by `export_firm <slug> --out <file>` in a process of its
own, so its peak resident memory (VmHWM, which the process reads from
/proc/self/status as it ends) is the export's alone: the process starts, loads
Django, streams the zip and ends.
Memory must be flat in firm size: the target is a peak at
100,000 clients within `TARGET_GROWTH_MB` of the smallest firm's.

Firms: `demo` when the demo data is in this database (`manage.py seed_demo`),
then the page benchmark's bench-1k and bench-100k (seeded by `make bench`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from bench.harness import MeasureSkipped, register_measure

FIRMS = ("demo", "bench-1k", "bench-100k")
TARGET_GROWTH_MB = 32.0
WORKDIR = Path(settings.BASE_DIR) / "var" / "bench" / "export"


# The child runs the command, then prints its own peak resident set (VmHWM):
# the parent's `wait4` figure would start at the parent's size, copied at fork.
_CHILD = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisoros.settings")
import django
django.setup()
from django.core.management import call_command
call_command(*sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(f"VmHWM {peak}")
"""


def _run(args: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MB of the management command `args` in a child
    process of its own."""
    with tempfile.TemporaryFile() as output:  # a pipe could fill and block the child
        started = time.perf_counter()
        finished = subprocess.run(  # noqa: S603 (our own command)
            [sys.executable, "-c", _CHILD, *args],
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode(errors="replace")
    if finished.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {text[-2000:]}")
    peak_kb = int(text.rsplit("VmHWM ", 1)[1].split()[0])
    return seconds, peak_kb / 1024


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
    records = []
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
            f"{peak_mb:.0f} MB, zip {zip_mb:.1f} MB"
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
