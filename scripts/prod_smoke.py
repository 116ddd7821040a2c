"""`make prod-smoke`: drive the production shape (scripts/prod.py --smoke) as a
person would, over HTTP, and say at each step what was seen.

1. sign in (the login form, its CSRF token, the session cookie);
2. upload a scan (a PNG drawn here, no text layer) to a client of the demo firm;
3. wait for a worker to read it: the OCR status on the document's page, then
   the job's record (the cluster that ran it, with the Redis broker);
4. find it by a word of its text in the document search;
5. download it: the site answers with a presigned URL of the S3 store, which
   gives back the very bytes uploaded.

Every wait is bounded; any failure stops the smoke with a message and exit 1.
The session cookie is Secure (production settings) and kept here by hand:
Python's cookie jar will not send a Secure cookie over plain HTTP on loopback.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIRM = "demo"
LOGIN = ("owner@demo.test", "demo-pass-2026")
OCR_DEADLINE = 240  # seconds: a clean page takes a few on a quiet machine
WORD = "Zanzibar"


class SmokeFailed(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies by hand, redirects not followed (each answer is looked at)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(
        self, path: str, *, data: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        url = urljoin(self.base, path)
        request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            request.add_header("Cookie", cookie)
        try:
            with self.opener.open(request, timeout=60) as answer:
                status, head, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, head, body = error.code, error.headers, error.read()
        for value in head.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, head, body

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")


def step(message: str) -> None:
    print(f"  smoke: {message}", flush=True)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


def sign_in(browser: Browser) -> None:
    status, _, page = browser.request("/accounts/login/")
    _expect(status == 200, f"the login page answered {status}")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    _expect(token is not None, "the login page has no CSRF token")
    form = urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": LOGIN[0],
            "password": LOGIN[1],
        }
    ).encode()
    status, head, _ = browser.request(
        "/accounts/login/",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _expect(status == 302, f"signing in answered {status}, not a redirect")
    _expect("verify" not in head["Location"], "the demo owner is asked for 2FA")
    step(f"signed in as {LOGIN[0]}")


def upload(browser: Browser, content: bytes) -> str:
    status, _, page = browser.request(f"/o/{FIRM}/clients/")
    _expect(status == 200, f"the client list answered {status}")
    client = re.search(rf"/o/{FIRM}/clients/([0-9a-f-]{{36}})/".encode(), page)
    _expect(client is not None, "the client list shows no client")
    status, _, body = browser.request(
        f"/o/{FIRM}/clients/{client.group(1).decode()}/documents/upload/",
        data=content,
        headers={
            "Content-Type": "application/octet-stream",
            "Accept": "application/json",
            "X-File-Name": quote("smoke-statement.png"),
            "X-CSRFToken": browser.csrf(),
        },
    )
    _expect(status == 200, f"the upload answered {status}: {body[:300]!r}")
    [outcome] = json.loads(body)["files"]
    _expect(outcome["ok"] and outcome["url"], f"the upload was refused: {outcome}")
    step(f"uploaded a {len(content):,}-byte scan: {outcome['url']}")
    return outcome["url"]


def wait_for_ocr(browser: Browser, document_url: str) -> None:
    deadline = time.monotonic() + OCR_DEADLINE
    seen = ""
    while time.monotonic() < deadline:
        status, _, page = browser.request(document_url)
        _expect(status == 200, f"the document's page answered {status}")
        match = re.search(rb'data-ocr-status="([a-z_]+)"', page)
        ocr = match.group(1).decode() if match else "unknown"
        if ocr != seen:
            step(f"OCR status: {ocr}")
            seen = ocr
        if ocr in ("completed", "needs_review"):
            return
        _expect(ocr not in ("failed", "unknown"), f"OCR ended {ocr}")
        time.sleep(1)
    raise SmokeFailed(f"the scan was not read within {OCR_DEADLINE} s")


def ocr_job_record(env: dict[str, str]) -> str:
    """The stored record of the OCR job: which cluster ran it, on which broker."""
    script = (
        "from django.conf import settings\n"
        "from django_q.models import Task\n"
        "from documents.services.ocr import OCR_JOB\n"
        "ran = [t for t in Task.objects.order_by('-stopped')[:50]"
        " if t.args and t.args[0] == OCR_JOB and t.success]\n"
        "print(settings.Q_CLUSTER.get('broker_class', 'orm'),"
        " ran[0].cluster if ran else 'none')\n"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _expect(result.returncode == 0, f"reading the job's record failed: {result.stderr}")
    broker, cluster = result.stdout.split()[-2:]
    _expect(broker.endswith("RedisQueue"), f"the broker is {broker}, not Redis")
    _expect(cluster == "ocr", f"the OCR job was run by cluster {cluster!r}")
    return f"the OCR cluster ran the job, taken from Redis ({broker})"


def search(browser: Browser, document_url: str) -> None:
    uuid = document_url.rstrip("/").rsplit("/", 1)[-1]
    status, _, page = browser.request(f"/o/{FIRM}/documents/?{urlencode({'q': WORD})}")
    _expect(status == 200, f"the search answered {status}")
    _expect(uuid.encode() in page, f"searching {WORD!r} does not find the scan")
    step(f"searching {WORD!r} finds it")


def download(browser: Browser, document_url: str, content: bytes) -> None:
    status, head, _ = browser.request(f"{document_url.rstrip('/')}/download/")
    _expect(status == 302, f"the download answered {status}, not a redirect")
    link = head["Location"]
    _expect("X-Amz-Signature=" in link, f"the download is no presigned URL: {link}")
    _expect(link.startswith("http://127.0.0.1:"), f"not the store on loopback: {link}")
    with urllib.request.urlopen(link, timeout=30) as answer:  # noqa: S310 (loopback)
        fetched = answer.read()
    _expect(fetched == content, "the presigned URL gave other bytes than uploaded")
    step("downloaded it through a presigned S3 URL: the same bytes")


def smoke_run(base: str, *, env: dict[str, str]) -> int:
    from documents.demo_scans import scan_png

    reference = secrets.randbelow(90000) + 10000
    content = scan_png(
        [
            "STATEMENT OF ACCOUNT",
            f"{WORD} Trading Company",
            f"Reference {reference}",
            "Balance due 1,250.00",
        ]
    )
    browser = Browser(base)
    started = time.monotonic()
    try:
        sign_in(browser)
        document_url = upload(browser, content)
        wait_for_ocr(browser, document_url)
        step(ocr_job_record(env))
        search(browser, document_url)
        download(browser, document_url, content)
    except (SmokeFailed, OSError, ValueError, subprocess.SubprocessError) as exc:
        print(f"  smoke FAILED: {exc}", flush=True)
        return 1
    print(f"  smoke passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0
