"""A local clamd with a test-only signature database, for the tests, the bench
and `make run`.

Debian's clamav-daemon ships no signatures and freshclam needs the internet, so
here clamd starts with one signature made on the spot: the EICAR test file (the
string every antivirus product detects by agreement; harmless, it does nothing).
Production runs clamd with freshclam's database instead (docs/decisions.md).

The EICAR string is built from pieces at run time, never written whole in a
source file, so that no scanner on a developer's machine flags the repository.

Standard library only: `scripts/serve.py` imports it before Django is set up.

    with local_clamd(folder) as socket_path:
        ...  # CLAMD_SOCKET=socket_path
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

CLAMD = "/usr/sbin/clamd"
SIGNATURE_NAME = "Eicar-Test-Signature"
START_TIMEOUT = 30.0
# clamd's StreamMaxLength, MaxFileSize and MaxScanSize here: ClamAV scans no file
# over 2 GB, so this is as far as a firm's upload limit can go with scanning on
# (larger files are refused as too large to check: documents.upload).
MAX_MEGABYTES = 2000


def eicar() -> bytes:
    """The 68 bytes of the EICAR test file."""
    parts = (
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-",
        "ANTIVIRUS-TEST-",
        "FILE!$H+H*",
    )
    return "".join(parts).encode("ascii")


def clamd_installed() -> bool:
    return os.access(CLAMD, os.X_OK)


def write_config(folder: Path, *, max_megabytes: int = MAX_MEGABYTES) -> Path:
    """A clamd.conf in `folder` (socket, database, log all inside it) and a
    database holding the EICAR body signature only. Returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "db"
    database.mkdir(exist_ok=True)
    (database / "test.ndb").write_text(f"{SIGNATURE_NAME}:0:*:{eicar().hex()}\n")
    config = folder / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {folder / 'clamd.sock'}",
                "LocalSocketMode 600",
                f"DatabaseDirectory {database}",
                f"LogFile {folder / 'clamd.log'}",
                # Whole uploads (up to the largest firm limit) go through INSTREAM
                # and are scanned to the end: nothing passes for being too large.
                f"StreamMaxLength {max_megabytes}M",
                f"MaxFileSize {max_megabytes}M",
                f"MaxScanSize {max_megabytes}M",
                "ConcurrentDatabaseReload no",
                "SelfCheck 0",
                "",
            ]
        )
    )
    return config


@contextlib.contextmanager
def local_clamd(folder: Path, *, max_megabytes: int = MAX_MEGABYTES) -> Iterator[str]:
    """Start clamd with the EICAR-only database in `folder`; yields its socket's
    path once clamd answers, and stops it afterwards."""
    folder = Path(folder)
    config = write_config(folder, max_megabytes=max_megabytes)
    socket_path = folder / "clamd.sock"
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    process = subprocess.Popen(  # noqa: S603 (a fixed program and our own config)
        [CLAMD, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for(socket_path, process)
        yield str(socket_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def _wait_for(socket_path: Path, process: subprocess.Popen) -> None:
    import socket

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = (
                process.stderr.read().decode(errors="replace") if process.stderr else ""
            )
            raise RuntimeError(f"clamd stopped at start: {error.strip()[-500:]}")
        if socket_path.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                with contextlib.suppress(OSError):
                    probe.connect(str(socket_path))
                    probe.sendall(b"zPING\0")
                    if probe.recv(16).startswith(b"PONG"):
                        _warm_up(socket_path)
                        return
        time.sleep(0.05)
    raise RuntimeError(
        f"clamd did not answer on {socket_path} within {START_TIMEOUT:g} s"
    )


def _warm_up(socket_path: Path) -> None:
    """One small scan: clamd's first one costs a few hundred milliseconds of
    setting up, which no measured upload should pay."""
    import socket
    import struct

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(START_TIMEOUT)
        probe.connect(str(socket_path))
        probe.sendall(b"zINSTREAM\0" + struct.pack("!L", 4) + b"warm" + bytes(4))
        probe.recv(64)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
