"""scripts/syspkgs.py: the one list of Debian packages, checked before anything else."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "syspkgs.py"


def syspkgs(*args: str, package_list: Path, as_nobody: bool = False):
    env = dict(os.environ, ADVISOROS_PACKAGE_LIST=str(package_list))
    python, script, preexec = sys.executable, SCRIPT, None
    if as_nobody and os.geteuid() == 0:
        # The script needs only the standard library: any python3 runs it, and
        # the virtualenv's may be out of reach of another user.
        python = shutil.which("python3", path="/usr/bin:/usr/local/bin") or python
        # A copy beside the list: the checkout may lie in a folder only root reads.
        script = package_list.parent / SCRIPT.name
        shutil.copy(SCRIPT, script)
        script.chmod(0o644)
        nobody = pwd.getpwnam("nobody")

        def preexec():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

    return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [python, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=preexec,  # noqa: PLW1509
        check=False,
    )


@pytest.fixture
def package_list() -> Iterator[Path]:
    # Outside pytest's own temporary folders, which only their owner can enter.
    folder = Path(tempfile.mkdtemp(prefix="advisoros-syspkgs-"))
    folder.chmod(0o755)
    # libc6 is on every Debian machine; the other name is no package at all.
    path = folder / "packages.txt"
    path.write_text(
        "# package  needed by  what for\n"
        "libc6                run   the C library\n"
        "advisoros-no-such-package  test  nothing\n"
    )
    path.chmod(0o644)
    yield path
    shutil.rmtree(folder)


def test_run_needs_the_run_packages_and_test_needs_both(package_list):
    run = syspkgs("list", "run", package_list=package_list)
    test = syspkgs("list", "test", package_list=package_list)

    assert run.stdout.split() == ["libc6"]
    assert test.stdout.split() == ["libc6", "advisoros-no-such-package"]


def test_nothing_missing_means_silence_and_success(package_list):
    result = syspkgs("ensure", "run", package_list=package_list)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_without_root_it_stops_naming_the_packages_and_the_exact_command(
    package_list,
):
    result = syspkgs("ensure", "test", package_list=package_list, as_nobody=True)

    assert result.returncode == 1
    assert "not installed: advisoros-no-such-package." in result.stderr
    assert (
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends "
        "advisoros-no-such-package" in result.stderr
    )
    assert "libc6" not in result.stderr
