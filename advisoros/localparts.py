"""Production's outside parts, on this machine's loopback: Redis and an S3 store.

For `make prod` (scripts/prod.py) and the tests that need a real Redis
(tests/production). Nothing here runs in production itself.

- Redis: this machine's server on 127.0.0.1:6379 when it answers; otherwise a
  private `redis-server` (Debian's redis-server, scripts/debian-packages.txt)
  on a free loopback port, keeping nothing on disk, stopped afterwards. Either
  way the caller keeps its keys apart with a prefix of its own and removes them
  when done (`redis_forget`): the machine's Redis is shared.
- S3: moto's server (`moto_server`, from requirements-dev.txt) on a free
  loopback port, bound to 127.0.0.1 (its default is every interface), with one
  bucket. It keeps its objects in memory: they end with it.
- Mail: a small SMTP server on loopback that keeps each message as a file (the
  production settings refuse the console mailer).

Standard library only at import (boto3 and redis are imported where used).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

MACHINE_REDIS = ("127.0.0.1", 6379)
START_TIMEOUT = 30.0
S3_REGION = "us-east-1"
# moto accepts any key; these name no real account.
S3_KEYS = {"AWS_ACCESS_KEY_ID": "advisoros-local", "AWS_SECRET_ACCESS_KEY": "local"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(host: str, port: int) -> bool:
    """True when a Redis server answers PING at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _stop(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def local_redis(folder: Path) -> Iterator[str]:
    """Yield a Redis URL on loopback: the machine's server, or one started here."""
    if redis_answers(*MACHINE_REDIS):
        yield "redis://{}:{}/0".format(*MACHINE_REDIS)
        return
    program = shutil.which("redis-server") or shutil.which("valkey-server")
    if program is None:
        raise RuntimeError(
            "No Redis answers on 127.0.0.1:6379 and redis-server is not installed "
            "(sudo apt-get install redis-server)."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed program, our arguments)
        [
            program,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--daemonize",
            "no",
        ],
        stdout=(folder / "redis.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not redis_answers("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start: see {folder}/redis.log"
                )
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def redis_forget(url: str, prefix: str) -> int:
    """Delete every key starting with `prefix` (SCAN, never KEYS or FLUSHDB: the
    server is shared). Returns how many."""
    import redis

    client = redis.from_url(url)
    removed = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        batch.append(key)
        if len(batch) == 500:
            removed += client.delete(*batch)
            batch = []
    if batch:
        removed += client.delete(*batch)
    client.close()
    return removed


@contextlib.contextmanager
def local_s3(bucket: str) -> Iterator[str]:
    """moto's S3 server on a free loopback port with `bucket` made; yields its URL."""
    import urllib.error
    import urllib.request

    import boto3

    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(  # noqa: S603 (our virtualenv's program)
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        ).create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        _stop(process)


class _MailHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321 without extensions) for Django's SMTP mailer."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 advisoros-local-mail")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 advisoros-local-mail")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.decode(errors="replace").split(":", 1)[-1])
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    body.append(data[1:] if data.startswith(b"..") else data)
                self.server.deliver(b"".join(body), recipients)
                self.reply("250 OK: kept")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # RSET, NOOP and the rest: nothing to do
                self.reply("250 OK")


class _MailServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, folder: Path):
        super().__init__(("127.0.0.1", 0), _MailHandler)
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    def deliver(self, message: bytes, recipients: list[str]) -> None:
        with self.lock:
            self.count += 1
            path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count}.eml"
        path.write_bytes(message)
        print(
            f"  Mail to {', '.join(r.strip() for r in recipients)}: {path}", flush=True
        )


@contextlib.contextmanager
def local_mail(folder: Path) -> Iterator[str]:
    """An SMTP server on a free loopback port that keeps each message in `folder`
    (one .eml file each) instead of sending it; yields its EMAIL_URL."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    server = _MailServer(folder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
