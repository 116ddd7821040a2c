"""Benchmark: what virus scanning adds to a 10 MB upload (registered from
bench/harness.py discover() as the measure `document_upload_scan`).

Two gunicorn servers like bench.documents_upload's (one sync worker each, the
file sent with sendfile(2) on loopback): one with no scanner (`CLAMD_SOCKET`
empty: "not scanned"), one scanning with a local clamd started here with the
test-only EICAR database (documents.clamd_local; with freshclam's full database
the scan costs more). Rounds alternate between the two; the best round of each
is compared (as `timeit` does; medians printed beside them). clamd's own time
on the same file, over its socket from this process, is printed too.

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
ROUNDS = 7
TARGET_ADDED = 0.10


def _ten_megabytes() -> Path:
    """A well-formed 10 MB PDF (one page, one incompressible stream of about
    10 MB, a cross-reference table), so the upload's content checks cost what a
    real statement's do."""
    path = WORKDIR / "upload-10mb-v2.pdf"
    if path.exists():
        return path
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


def _server(socket_path: str) -> Server:
    before = os.environ.get("CLAMD_SOCKET")
    os.environ["CLAMD_SOCKET"] = socket_path
    try:
        return Server()
    finally:
        if before is None:
            os.environ.pop("CLAMD_SOCKET", None)
        else:
            os.environ["CLAMD_SOCKET"] = before


@register_measure("document_upload_scan")
def document_upload_scan(*, stdout) -> list[dict]:
    if not clamd_installed():
        raise MeasureSkipped("clamd is not installed (Debian clamav-daemon)")
    WORKDIR.mkdir(parents=True, exist_ok=True)
    source = _ten_megabytes()
    client, session = _setup()
    path = f"/o/{FIRM}/clients/{client.uuid}/documents/upload/"
    times: dict[str, list[float]] = {"plain": [], "scanned": []}
    clamd_alone: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="clamd-", dir=WORKDIR) as folder,
        local_clamd(Path(folder)) as socket_path,
    ):
        servers = {"plain": _server(""), "scanned": _server(socket_path)}
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
                for kind, server in servers.items():
                    os.sync()
                    name = quote(f"statement-{kind}-{i}.pdf")
                    seconds, answer = _post(
                        server, path, {**headers[kind], "X-File-Name": name}, [source]
                    )
                    _remove_uploads(client, [answer])
                    times[kind].append(seconds)
                with override_settings(CLAMD_SOCKET=socket_path):
                    started = time.perf_counter()
                    scan_path(str(source))
                    clamd_alone.append(time.perf_counter() - started)
                stdout.write(
                    f"  round {i + 1}: no scan {times['plain'][-1] * 1000:.0f} ms,"
                    f" scanned {times['scanned'][-1] * 1000:.0f} ms,"
                    f" clamd alone {clamd_alone[-1] * 1000:.0f} ms"
                )
        finally:
            for server in servers.values():
                server.stop()
    plain, scanned = min(times["plain"]), min(times["scanned"])
    added = scanned / plain - 1
    stdout.write(
        f"  10 MB upload: no scan {plain * 1000:.0f} ms (median"
        f" {statistics.median(times['plain']) * 1000:.0f}), scanned"
        f" {scanned * 1000:.0f} ms (median"
        f" {statistics.median(times['scanned']) * 1000:.0f}): scanning adds"
        f" {added:+.0%}; clamd alone {min(clamd_alone) * 1000:.0f} ms"
    )
    records = [
        {"name": "document_upload_scan.no_scan_ms", "value": round(plain * 1000, 1),
         "unit": "ms", "dataset_size": 10},
        {"name": "document_upload_scan.scanned_ms", "value": round(scanned * 1000, 1),
         "unit": "ms", "dataset_size": 10},
        {"name": "document_upload_scan.added_pct", "value": round(added * 100, 1),
         "unit": "%", "dataset_size": 10},
        {"name": "document_upload_scan.clamd_alone_ms",
         "value": round(min(clamd_alone) * 1000, 1), "unit": "ms", "dataset_size": 10},
    ]  # fmt: skip
    if added > TARGET_ADDED:
        records[2]["missed"] = f"scanning adds at most {TARGET_ADDED:.0%}"
    return records
