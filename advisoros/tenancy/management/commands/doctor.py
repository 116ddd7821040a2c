"""`make doctor`: every part AdvisorOS depends on, each with OK or what to do.

`make run` runs it first and stops on a FAIL; a WARN is printed and run goes on
(the browser for the tests, a worker not started yet, mail printed not sent).
Each check is a small function returning a `Finding`, so a new part adds one
function to CHECKS. It reads and probes; it changes nothing but a probe file it
writes to the file store and removes again.
"""

from __future__ import annotations

import importlib.util
import shutil
import smtplib
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OK, WARN, FAIL = "OK", "WARN", "FAIL"
PACKAGE_LIST = Path(settings.BASE_DIR) / "scripts" / "debian-packages.txt"
MIN_PYTHON = (3, 12)
MIN_POSTGRES = 150000


@dataclass(frozen=True)
class Finding:
    part: str
    level: str
    detail: str


def _apt(packages: list[str]) -> str:
    return (
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends "
        + " ".join(packages)
    )


def _debian_packages() -> dict[str, str]:
    """Package name -> what needs it ("run" or "test"), from the one list."""
    needs = {}
    for line in PACKAGE_LIST.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            needs[fields[0]] = fields[1]
    return needs


def _package_installed(name: str) -> bool | None:
    """True or False on Debian; None where there is no dpkg to ask."""
    if shutil.which("dpkg-query") is None:
        return None
    # Fixed program and arguments; the names come from our own package list.
    result = subprocess.run(  # noqa: S603
        ["dpkg-query", "-W", "-f=${Status}", name],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return "install ok installed" in result.stdout


def check_python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Finding("Python", FAIL, f"{version}: Django 6 needs 3.12 or newer")
    return Finding("Python", OK, version)


def check_postgresql() -> Finding:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('server_version_num')::int,"
                " current_setting('server_version'), current_user,"
                " rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            number, version, user, privileged = cursor.fetchone()
    except Exception as exc:
        return Finding(
            "PostgreSQL",
            FAIL,
            f"cannot connect ({exc}). Run through make (embedded server) or set "
            "DATABASE_URL to a reachable server.",
        )
    if number < MIN_POSTGRES:
        return Finding("PostgreSQL", FAIL, f"{version}: Django 6.1 needs 15 or newer")
    if privileged:
        return Finding(
            "PostgreSQL",
            FAIL,
            f"{version} as {user}, a superuser or BYPASSRLS role: row-level security "
            "would not apply. Connect as an ordinary role (scripts/devdb.py makes one).",
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r"
            " ON r.oid = c.relowner WHERE r.rolname = current_user"
            " AND c.relnamespace = 'public'::regnamespace),"
            " EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r"
            " ON r.oid = m.member WHERE r.rolname = current_user)"
        )
        owns, member = cursor.fetchone()
    if owns or member:
        return Finding(
            "PostgreSQL",
            FAIL,
            f"{version} as {user}, which "
            + ("owns tables" if owns else "is a member of another role")
            + ": it could switch the walls off. The app's role must own nothing"
            " (docs/security.md, Database roles; scripts/devdb.py sets this up).",
        )
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    detail = f"{version} as {user} (row-level security applies; owns nothing)"
    if pending:
        return Finding(
            "PostgreSQL",
            WARN,
            f"{detail}; {len(pending)} migrations to apply: manage.py migrate "
            "(make run applies them)",
        )
    return Finding("PostgreSQL", OK, detail)


def check_debian_packages() -> Finding:
    needs = _debian_packages()
    states = {name: _package_installed(name) for name in needs}
    if all(state is None for state in states.values()):
        return Finding(
            "Debian packages",
            WARN,
            "no dpkg here: install the equivalents of " + ", ".join(needs),
        )
    missing_run = [n for n, s in states.items() if s is False and needs[n] == "run"]
    missing_test = [n for n, s in states.items() if s is False and needs[n] != "run"]
    if missing_run:
        return Finding(
            "Debian packages",
            FAIL,
            f"missing {', '.join(missing_run)}: " + _apt(missing_run + missing_test),
        )
    if missing_test:
        return Finding(
            "Debian packages",
            WARN,
            f"missing {', '.join(missing_test)} (the tests need it): "
            + _apt(missing_test),
        )
    return Finding("Debian packages", OK, f"{len(needs)} installed")


def check_tesseract() -> Finding:
    # The program itself, as the OCR jobs run it (pytesseract caches its answers
    # for the life of the process, so it is not asked here).
    import pytesseract

    program = shutil.which(pytesseract.pytesseract.tesseract_cmd)
    if program is None:
        return Finding(
            "tesseract (OCR)",
            FAIL,
            "not installed: scans stay unread. "
            + _apt(["tesseract-ocr", "tesseract-ocr-eng"]),
        )
    # The program found on PATH with fixed arguments, as pytesseract runs it.
    languages = subprocess.run(  # noqa: S603
        [program, "--list-langs"], capture_output=True, text=True, check=False
    ).stdout.split()
    version = subprocess.run(  # noqa: S603
        [program, "--version"], capture_output=True, text=True, check=False
    ).stdout.split("\n", 1)[0]
    if "eng" not in languages:
        return Finding(
            "tesseract (OCR)",
            FAIL,
            f"{version} without English data: " + _apt(["tesseract-ocr-eng"]),
        )
    return Finding("tesseract (OCR)", OK, f"{version}, English")


def check_libmagic() -> Finding:
    try:
        import magic

        sniffed = magic.from_buffer(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", mime=True)
    except (ImportError, OSError) as exc:
        return Finding("libmagic (uploads)", FAIL, f"{exc}: " + _apt(["libmagic1"]))
    if sniffed != "application/pdf":
        return Finding("libmagic (uploads)", FAIL, f"reads a PDF as {sniffed}")
    return Finding("libmagic (uploads)", OK, "sniffs file types")


def check_chromium() -> Finding:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    playwright = importlib.util.find_spec("playwright") is not None
    if path is None:
        return Finding(
            "Chromium (browser tests)",
            WARN,
            "not installed; only the browser tests need it: " + _apt(["chromium"]),
        )
    if not playwright:
        return Finding(
            "Chromium (browser tests)",
            WARN,
            f"{path}, but Playwright is missing: pip install -r requirements-dev.txt",
        )
    return Finding("Chromium (browser tests)", OK, path)


def check_worker() -> Finding:
    from django_q.conf import Conf
    from django_q.status import Stat

    broker = "the database (ORM)" if Conf.ORM else "Redis"
    try:
        clusters = Stat.get_all()
    except Exception as exc:
        return Finding("Background worker", FAIL, f"broker {broker} unreachable: {exc}")
    if not clusters:
        return Finding(
            "Background worker",
            WARN,
            f"broker {broker}; no worker running: make run starts one "
            "(manage.py qcluster)",
        )
    names = sorted({str(stat.cluster_id)[:8] for stat in clusters})
    return Finding(
        "Background worker",
        OK,
        f"broker {broker}; {len(names)} cluster(s) running",
    )


def check_email() -> Finding:
    mailer = settings.MAILERS["default"]
    backend = mailer["BACKEND"]
    if "smtp" not in backend:
        name = backend.rsplit(".", 2)[-2]
        return Finding(
            "Email",
            WARN if name == "console" else OK,
            f"{name} backend: mail is not delivered"
            + (" but printed on the terminal" if name == "console" else "")
            + "; set EMAIL_URL=smtp+tls://user:password@host:587 to send it",
        )
    options = mailer.get("OPTIONS", {})
    host, port = options.get("host", "localhost"), int(options.get("port") or 25)
    client = smtplib.SMTP_SSL if options.get("use_ssl") else smtplib.SMTP
    try:
        with client(host, port, timeout=5) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return Finding("Email", FAIL, f"SMTP {host}:{port} unreachable ({exc})")
    return Finding("Email", OK, f"SMTP {host}:{port} answers")


def check_storage() -> Finding:
    storage = storages["default"]
    name = f"doctor/{uuid.uuid4().hex}.probe"
    where = type(storage).__name__
    location = getattr(storage, "bucket_name", "") or getattr(storage, "location", "")
    try:
        saved = storage.save(name, ContentFile(b"probe"))
        storage.delete(saved)
    except Exception as exc:
        return Finding(
            "File storage",
            FAIL,
            f"{where} {location}: cannot write ({exc}); check MEDIA_ROOT or S3_*",
        )
    return Finding("File storage", OK, f"{where} {location} is writable")


CHECKS: list[Callable[[], Finding]] = [
    check_python,
    check_postgresql,
    check_debian_packages,
    check_tesseract,
    check_libmagic,
    check_chromium,
    check_worker,
    check_email,
    check_storage,
]


class Command(BaseCommand):
    help = (
        "Check every part AdvisorOS depends on (Python, PostgreSQL, tesseract, "
        "libmagic, Chromium, the worker, email, storage) and say what to do."
    )

    def handle(self, *args, **options):
        findings = [check() for check in CHECKS]
        width = max(len(f.part) for f in findings)
        style = {
            OK: self.style.SUCCESS,
            WARN: self.style.WARNING,
            FAIL: self.style.ERROR,
        }
        for finding in findings:
            self.stdout.write(
                f"  {style[finding.level](finding.level.ljust(4))}  "
                f"{finding.part.ljust(width)}  {finding.detail}"
            )
        failed = [f.part for f in findings if f.level == FAIL]
        if failed:
            raise CommandError(f"Not ready: {', '.join(failed)}.")
