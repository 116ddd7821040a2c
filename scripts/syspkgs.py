"""The Debian packages AdvisorOS needs, checked and installed from one list.

Usage: python3 scripts/syspkgs.py ensure run|test   (install what is missing, or stop)
       python3 scripts/syspkgs.py missing run|test  (print the missing ones; exit 1 if any)
       python3 scripts/syspkgs.py list run|test     (print the packages)

The list is scripts/debian-packages.txt: a package, then `run` (needed to run
AdvisorOS, and so by the tests too) or `test` (needed by the tests only).

`ensure` installs what is missing when it runs as root on a machine with apt
(`apt-get update` once, then `apt-get install --no-install-recommends`). Anyone
else gets one message naming the missing packages and the exact command, and
exit status 1, before anything else has been done. It uses only the standard
library, so it runs before the virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# ADVISOROS_PACKAGE_LIST names another list (the tests use one of their own).
LIST = Path(
    os.environ.get("ADVISOROS_PACKAGE_LIST")
    or Path(__file__).resolve().parent / "debian-packages.txt"
)
NEEDS = {"run": {"run"}, "test": {"run", "test"}}


def packages(purpose: str) -> list[str]:
    """The packages `purpose` needs, in the list's order."""
    wanted = NEEDS[purpose]
    names = []
    for line in LIST.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[1] in wanted:
            names.append(fields[0])
    return names


def installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


def missing(purpose: str) -> list[str]:
    return [name for name in packages(purpose) if not installed(name)]


def install_command(names: list[str], *, sudo: bool) -> str:
    prefix = "sudo " if sudo else ""
    return (
        f"{prefix}apt-get update && {prefix}apt-get install -y "
        f"--no-install-recommends {' '.join(names)}"
    )


def ensure(purpose: str) -> int:
    if shutil.which("dpkg-query") is None:
        print(
            "AdvisorOS checks its system packages with Debian's dpkg, which this "
            "machine does not have. Install the equivalents of: "
            + ", ".join(packages(purpose))
            + " (scripts/debian-packages.txt says what each is for).",
            file=sys.stderr,
        )
        # Not fatal: the parts themselves are checked by `make doctor`.
        return 0
    names = missing(purpose)
    if not names:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"AdvisorOS needs these Debian packages, which are not installed: "
            f"{', '.join(names)}.\nInstall them with:\n\n"
            f"    {install_command(names, sudo=True)}\n\n"
            "then run make again.",
            file=sys.stderr,
        )
        return 1
    print(f"Installing the Debian packages AdvisorOS needs: {' '.join(names)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names],
    ):
        if subprocess.run(command, env=env, check=False).returncode != 0:
            print(f"`{' '.join(command)}` failed.", file=sys.stderr)
            return 1
    still = missing(purpose)
    if still:
        print(f"Still not installed: {', '.join(still)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if (
        len(argv) != 2
        or argv[0] not in ("ensure", "missing", "list")
        or (argv[1] not in NEEDS)
    ):
        print(__doc__, file=sys.stderr)
        return 2
    command, purpose = argv
    if command == "ensure":
        return ensure(purpose)
    names = packages(purpose) if command == "list" else missing(purpose)
    if names:
        print("\n".join(names))
    return 1 if command == "missing" and names else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
