"""Benchmark: what virus scanning adds to a 10 MB upload (registered from
bench/harness.py discover() as the measure `document_upload_scan`).

Three gunicorn servers like bench.documents_upload's (one sync worker each, the
file sent with sendfile(2) on loopback): one with no scanner (`CLAMD_SOCKET`
empty: "not scanned"), one scanning with a local clamd started here with the
test-only EICAR database (documents.clamd_local; with freshclam's full database
the scan costs more), streaming each upload to clamd while it arrives
(documents.scanning.StreamingScan), and a third one scanning each file once it
has arrived (`CLAMD_STREAM=false`, as before streaming), to show what streaming
saves.

Every measured upload is a new file (a fresh random payload): clamd keeps the
verdicts of the files it has scanned (`CacheSize`, by MD5), and a file it has
seen before is answered from that cache several times faster, which no real
upload is. "same file again" (the warm-up's file: a cache hit) is printed
beside it, for comparison with earlier figures, which were measured so.

Rounds alternate between the kinds. Printed for each: best, median and p95
(with ROUNDS rounds the p95 is close to the worst). The target is judged on the
best rounds (as `timeit` does: the least disturbed by the machine's other
load). clamd's own time on a new file, over its socket from this process, is
printed too: clamd scans only once it has the last byte, so that is the part
streaming cannot hide.

Target (issue 12): scanning adds at most 10% to the upload.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.test import override_settings

from bench.documents_upload import (
    FIRM,
    WORKDIR,
    Server,
    _csrf_token,
    _post,
    _remove_uploads,
    _setup,
)
from bench.harness import MeasureSkipped, register_measure
from documents.clamd_local import clamd_installed, local_clamd
from documents.scanning import scan_path

SIZE = 10 * 1024 * 1024
ROUNDS = 11
TARGET_ADDED = 0.10


def _ten_megabytes() -> Path:
    """The warm-up's file (see `_write_pdf`), kept from run to run."""
    path = WORKDIR / "upload-10mb-v2.pdf"
    if not path.exists():
        _write_pdf(path)
    return path


def _write_pdf(path: Path) -> Path:
    """A well-formed 10 MB PDF (one page, one incompressible stream of about
    10 MB of new random bytes, a cross-reference table), so the upload's content
    checks cost what a real statement's do, and clamd has never seen it."""
    payload = os.urandom(SIZE - 1024)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _figures(values: list[float]) -> str:
    return (
        f"best {min(values) * 1000:4.0f} ms, median"
        f" {statistics.median(values) * 1000:4.0f}, p95 {_p95(values) * 1000:4.0f}"
    )


def _server(socket_path: str, *, stream: bool = True) -> Server:
    wanted = {"CLAMD_SOCKET": socket_path, "CLAMD_STREAM": str(stream).lower()}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        return Server()
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _record(name: str, seconds: float) -> dict:
    return {
        "name": f"document_upload_scan.{name}",
        "value": round(seconds * 1000, 1),
        "unit": "ms",
        "dataset_size": 10,
    }


@register_measure("document_upload_scan")
def document_upload_scan(*, stdout) -> list[dict]:
    if not clamd_installed():
        raise MeasureSkipped("clamd is not installed (Debian clamav-daemon)")
    WORKDIR.mkdir(parents=True, exist_ok=True)
    source = _ten_megabytes()
    fresh = WORKDIR / "upload-10mb-new.pdf"
    client, session = _setup()
    path = f"/o/{FIRM}/clients/{client.uuid}/documents/upload/"
    # The server each kind of upload goes to, and whether it sends a new file.
    kinds = {
        "plain": ("plain", True),
        "scanned": ("scanned", True),
        "after": ("after", True),  # scanned once it has arrived (not streamed)
        "same": ("scanned", False),  # the warm-up's file again: clamd's cache
        "same_after": ("after", False),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    clamd_alone: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="clamd-", dir=WORKDIR) as folder,
        local_clamd(Path(folder)) as socket_path,
    ):
        servers = {
            "plain": _server(""),
            "scanned": _server(socket_path),
            "after": _server(socket_path, stream=False),
        }
        try:
            headers = {}
            for kind, server in servers.items():
                token = _csrf_token(server, path, session)
                headers[kind] = {
                    "Cookie": f"sessionid={session}; csrftoken={token}",
                    "X-CSRFToken": token,
                    "Accept": "application/json",
                    "Content-Type": "application/octet-stream",
                    "X-Document-Fields": "category=bank_statement",
                }
                # Warm-up: modules, libmagic, the connection, clamd's first scan.
                _, answer = _post(
                    server, path, {**headers[kind], "X-File-Name": "warm.pdf"}, [source]
                )
                _remove_uploads(client, [answer])
            for i in range(ROUNDS):
                for kind, (server_kind, new_file) in kinds.items():
                    sent = _write_pdf(fresh) if new_file else source
                    os.sync()
                    name = quote(f"statement-{kind}-{i}.pdf")
                    seconds, answer = _post(
                        servers[server_kind],
                        path,
                        {**headers[server_kind], "X-File-Name": name},
                        [sent],
                    )
                    _remove_uploads(client, [answer])
                    times[kind].append(seconds)
                _write_pdf(fresh)
                with override_settings(CLAMD_SOCKET=socket_path):
                    started = time.perf_counter()
                    scan_path(str(fresh))
                    clamd_alone.append(time.perf_counter() - started)
                stdout.write(
                    f"  round {i + 1}: no scan {times['plain'][-1] * 1000:.0f} ms,"
                    f" scanned {times['scanned'][-1] * 1000:.0f} ms"
                    f" (not streamed {times['after'][-1] * 1000:.0f}),"
                    f" same file again {times['same'][-1] * 1000:.0f} ms"
                    f" (not streamed {times['same_after'][-1] * 1000:.0f}),"
                    f" clamd alone {clamd_alone[-1] * 1000:.0f} ms"
                )
        finally:
            for server in servers.values():
                server.stop()
            fresh.unlink(missing_ok=True)
    plain, scanned = min(times["plain"]), min(times["scanned"])
    added = scanned / plain - 1
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    added_median = medians["scanned"] / medians["plain"] - 1
    stdout.write(
        f"  10 MB upload, a new file each time ({ROUNDS} rounds):\n"
        f"    no scan          {_figures(times['plain'])}\n"
        f"    scanned          {_figures(times['scanned'])}\n"
        f"    not streamed     {_figures(times['after'])} (scanned once arrived)\n"
        f"    same file again  {_figures(times['same'])} (clamd's cache)\n"
        f"      not streamed   {_figures(times['same_after'])}\n"
        f"    clamd alone      {_figures(clamd_alone)} (a new file)\n"
        f"  scanning adds {added:+.0%} (best rounds), {added_median:+.0%} (medians)"
    )
    records = [
        _record("no_scan_ms", plain),
        _record("scanned_ms", scanned),
        _record("no_scan_p50_ms", medians["plain"]),
        _record("scanned_p50_ms", medians["scanned"]),
        _record("no_scan_p95_ms", _p95(times["plain"])),
        _record("scanned_p95_ms", _p95(times["scanned"])),
        _record("not_streamed_ms", min(times["after"])),
        _record("not_streamed_p50_ms", medians["after"]),
        _record("same_file_scanned_ms", min(times["same"])),
        _record("same_file_not_streamed_ms", min(times["same_after"])),
        _record("clamd_alone_ms", min(clamd_alone)),
        {
            "name": "document_upload_scan.added_pct",
            "value": round(added * 100, 1),
            "unit": "%",
            "dataset_size": 10,
        },
    ]
    if added > TARGET_ADDED:
        records[-1]["missed"] = f"scanning adds at most {TARGET_ADDED:.0%}"
    return records
