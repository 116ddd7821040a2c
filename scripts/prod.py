"""`make prod`: the production shape, started on this machine from the checkout.

- gunicorn with several workers (deploy/gunicorn.conf.py: WSGI, threads, the
  database pool of DB_POOL), DEBUG off, static files collected and served by
  WhiteNoise;
- both django-q2 clusters (general jobs and OCR) on Redis: this machine's
  (127.0.0.1:6379) or one started here, every key under a prefix of this run's
  own (removed at the end); the cache and the sessions there too;
- PostgreSQL: the embedded server's database `advisoros_prod`, made afresh each
  run (scripts/devdb.py, ADVISOROS_DEVDB_FRESH), or the one in DATABASE_URL;
- files in an S3 store on loopback (moto's server), downloads by presigned URL;
- mail kept as files under var/prod/mail (a small SMTP server on loopback), and
  a local clamd with the EICAR test signature when clamd is installed.

Before starting it runs what a production deploy runs: migrate, collectstatic,
`check --deploy` (its errors stop the start; the warnings about plain HTTP on
loopback are expected). Then it prints the URL and waits for Ctrl-C or SIGTERM.
With `--smoke` it drives the site instead (scripts/prod_smoke.py) and stops.
Either way everything it started is stopped: SIGTERM, then SIGKILL after a
grace period, within a bounded time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "prod"
BUCKET = "advisoros-prod"
GRACE_SECONDS = 10
START_TIMEOUT = 120


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def _secrets() -> dict[str, str]:
    """Production's secrets for this checkout, made once (var/prod/secrets.env)."""
    path = VAR / "secrets.env"
    if not path.exists():
        from cryptography.fernet import Fernet

        VAR.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
            f"AUDIT_CHAIN_KEY={secrets.token_hex(32)}\n"
        )
        path.chmod(0o600)
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line)
    return dict(pairs)


def production_env(
    *, port: int, redis_url: str, prefix: str, s3: str, mail: str
) -> dict[str, str]:
    from advisoros.localparts import S3_KEYS, S3_REGION

    env = {k: v for k, v in os.environ.items() if k != "Q_CLUSTER_NAME"}
    return {
        **env,
        **_secrets(),
        "DJANGO_SETTINGS_MODULE": "advisoros.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: production runs behind TLS (docs/production.md).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_HSTS_SECONDS": "0",
        "SITE_URL": f"http://localhost:{port}",
        "CACHE_URL": redis_url,
        "CACHE_KEY_PREFIX": f"{prefix}:cache",
        "Q_REDIS_URL": redis_url,
        "Q_REDIS_PREFIX": f"{prefix}:q",
        "S3_BUCKET": BUCKET,
        "S3_REGION": S3_REGION,
        "S3_ENDPOINT_URL": s3,
        **S3_KEYS,
        "EMAIL_URL": mail,
        "STATIC_ROOT": str(VAR / "static"),
        "DB_CONN_MAX_AGE": "60",
        "BENCH": "false",
    }


def _wait_for_site(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{url}accounts/login/", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped at start (its log is above)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s")
        time.sleep(0.5)


def _stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to each leader (qcluster stops its own workers and hangs when they
    get it too; gunicorn's master stops its workers), then SIGKILL to the group."""
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"  {name} did not stop in {GRACE_SECONDS}s: killing it.", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # stray workers, if any
        child.wait()


def run(*, port: int, smoke: bool) -> int:
    from advisoros.localparts import local_mail, local_redis, local_s3, redis_forget
    from documents.clamd_local import clamd_installed, local_clamd

    prefix = f"advisoros-prod-{secrets.token_hex(4)}"
    # SIGTERM (make's timeout, devdb.py passing one on) unwinds like Ctrl-C:
    # everything started so far is stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.ExitStack() as parts:
        redis_url = parts.enter_context(local_redis(VAR / "redis"))
        parts.callback(redis_forget, redis_url, prefix)
        s3 = parts.enter_context(local_s3(BUCKET))
        mail = parts.enter_context(local_mail(VAR / "mail"))
        env = production_env(
            port=port, redis_url=redis_url, prefix=prefix, s3=s3, mail=mail
        )
        if clamd_installed() and not env.get("CLAMD_SOCKET"):
            env["CLAMD_SOCKET"] = parts.enter_context(local_clamd(VAR / "clamd"))
        print(
            f"  Redis {redis_url} (keys {prefix}:*), S3 {s3} (bucket {BUCKET}),"
            f" mail kept in {VAR / 'mail'}",
            flush=True,
        )
        # The demo firm's known passwords are refused with DEBUG off (seed_demo's
        # own guard): it alone runs with DEBUG on, into the same database and store.
        for step, step_env in (
            (["migrate", "--no-input"], env),
            (["collectstatic", "--no-input", "--verbosity", "0"], env),
            (["check", "--deploy", "--fail-level", "ERROR"], env),
            (["seed_demo"], {**env, "DJANGO_DEBUG": "true"}),
            (["setup_schedules"], env),
        ):
            print(f"  manage.py {' '.join(step)}", flush=True)
            if subprocess.run(manage(*step), env=step_env, cwd=ROOT).returncode != 0:
                print(f"  make prod stopped: manage.py {step[0]} failed (above).")
                return 1
        web_env = {
            **env,
            "DB_POOL": "true",
            "DB_CONN_MAX_AGE": "0",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", "3"),
            "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS", "4"),
            "DB_POOL_MAX_SIZE": os.environ.get("GUNICORN_THREADS", "4"),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        commands = {
            "gunicorn": (
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "advisoros.wsgi:application",
                ],
                web_env,
            ),
            "the worker": (manage("qcluster"), env),
            "the OCR worker": (manage("qcluster"), {**env, "Q_CLUSTER_NAME": "ocr"}),
        }
        children = {
            name: subprocess.Popen(
                command, env=child_env, cwd=ROOT, start_new_session=True
            )
            for name, (command, child_env) in commands.items()
        }
        parts.callback(_stop, children)
        url = f"http://localhost:{port}/"
        _wait_for_site(f"http://127.0.0.1:{port}/", children["gunicorn"])
        if smoke:
            from prod_smoke import smoke_run  # scripts/, this script's folder

            return smoke_run(f"http://127.0.0.1:{port}/", env=env)
        print(
            f"\n  AdvisorOS (production shape) is running at {url}\n"
            "  Demo logins (password demo-pass-2026): owner@demo.test, staff@demo.test ...\n"
            "  Its database and S3 store are this run's: they start afresh next time.\n"
            "  Press Ctrl-C to stop the web server, the workers, Redis and S3.\n",
            flush=True,
        )
        try:
            while all(c.poll() is None for c in children.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        failed = [name for name, c in children.items() if c.poll() is not None]
        print(f"  {', '.join(failed)} stopped: stopping the rest.", flush=True)
        return 1


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, help="default: PORT, or a free one with --smoke"
    )
    parser.add_argument("--smoke", action="store_true", help="drive it, then stop")
    options = parser.parse_args()
    from advisoros.localparts import free_port

    port = options.port or (free_port() if options.smoke else 8000)
    try:
        return run(port=port, smoke=options.smoke)
    except KeyboardInterrupt:
        return 130 if options.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
