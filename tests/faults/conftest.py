"""Fixtures for the fault tests: a small disk of the test's own."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for the test (needs root, or CAP_SYS_ADMIN); skipped
    with the reason when this machine does not allow the mount."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if not mount or not umount:
        pytest.skip("no `mount` command to make a small file system")
    folder = Path(tempfile.mkdtemp(prefix="advisoros-small-disk-"))
    mounted = subprocess.run(  # noqa: S603
        [mount, "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(
            "a full disk needs a small file system, and mounting a tmpfs is not "
            f"permitted here: {mounted.stderr.strip()}"
        )
    try:
        yield folder
    finally:
        subprocess.run([umount, "-l", str(folder)], check=False)  # noqa: S603
        folder.rmdir()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of the fault tests' own (tests/faults/servers.py), with
    the app's database `advisoros` made and migrated; yields (server, app URL)."""
    from tests.faults.servers import own_postgres

    with own_postgres() as server:
        yield server, server.app_database("advisoros")
