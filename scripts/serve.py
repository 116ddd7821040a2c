"""`make run`: check the parts (doctor), migrate, seed the demo firm, run the web
server and the django-q2 workers.

Two clusters: the default one (reminders, imports, notifications ...) and the
OCR one (`Q_CLUSTER_NAME=ocr`, settings.Q_CLUSTER["ALT_CLUSTERS"]), so a long
scan never holds the default queue.

Ctrl-C or SIGTERM stops all three: SIGTERM first, then SIGKILL after a grace
period (qcluster is known to hang on SIGTERM after a worker timeout).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # documents.clamd_local (standard library only)
GRACE_SECONDS = 10


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def main() -> int:
    """Run everything; with clamd installed and no CLAMD_SOCKET set, inside a
    local clamd's lifetime (its database: the EICAR test signature only)."""
    from documents.clamd_local import clamd_installed, local_clamd

    if os.environ.get("CLAMD_SOCKET") or not clamd_installed():
        if not os.environ.get("CLAMD_SOCKET"):
            print('  No clamd installed: uploads are kept as "not scanned".')
        return serve()
    with local_clamd(ROOT / "var" / "clamd") as socket_path:
        os.environ["CLAMD_SOCKET"] = socket_path
        print(
            f"  Virus scanning: a local clamd on {socket_path} with a test-only"
            " database (it detects the EICAR test file, nothing else; production"
            " runs freshclam's).",
            flush=True,
        )
        return serve()


def serve() -> int:
    port = os.environ.get("PORT", "8000")
    env = dict(os.environ)
    env.pop("Q_CLUSTER_NAME", None)  # the default cluster has no name of its own
    env.setdefault("DJANGO_DEBUG", "true")
    # Links in emails (invitations, reminders) point at this server.
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    # Every part checked first: a missing one is named with what to do, before
    # anything is migrated or seeded.
    if subprocess.run(manage("doctor"), env=env, cwd=ROOT).returncode != 0:
        print("  make run stopped: mend what `doctor` marks FAIL, then run it again.")
        return 1
    subprocess.run(manage("migrate", "--no-input"), check=True, env=env, cwd=ROOT)
    subprocess.run(manage("seed_demo"), check=True, env=env, cwd=ROOT)
    subprocess.run(manage("setup_schedules"), check=True, env=env, cwd=ROOT)
    commands = {
        "the web server": (manage("runserver", f"127.0.0.1:{port}", "--noreload"), env),
        "the worker": (manage("qcluster"), env),
        "the OCR worker": (manage("qcluster"), {**env, "Q_CLUSTER_NAME": "ocr"}),
    }
    children = {
        name: subprocess.Popen(command, env=child_env, cwd=ROOT, start_new_session=True)
        for name, (command, child_env) in commands.items()
    }
    print(
        f"\n  AdvisorOS is running at http://127.0.0.1:{port}/\n"
        "  Demo logins (password demo-pass-2026):\n"
        "    owner@demo.test, admin@demo.test, manager@demo.test, staff@demo.test, readonly@demo.test\n"
        "    owner@other.test (a second firm)\n"
        f"  Client portal: http://127.0.0.1:{port}/p/demo/  as client@demo.test\n"
        "  Press Ctrl-C to stop the web server, the workers and the database.\n",
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children.values()):
        time.sleep(0.5)
    # SIGTERM to each leader only: qcluster stops its own workers in order, but
    # hangs when they get the signal too. SIGKILL, if needed, takes the whole group.
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"  {name} did not stop in {GRACE_SECONDS}s: killing it.", flush=True)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    failed = [
        c
        for c in children.values()
        if c.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL)
    ]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
