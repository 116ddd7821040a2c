"""`make doctor`: each part with OK, or FAIL and what to do."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def doctor() -> tuple[str, str | None]:
    """Run the command; return its report and the error it ended with, if any."""
    out = StringIO()
    try:
        call_command("doctor", stdout=out, no_color=True)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def line(report: str, part: str) -> str:
    return next(row for row in report.splitlines() if f"  {part}  " in row + "  ")


def test_a_ready_machine_gets_ok_for_every_part_it_runs_on(db):
    report, error = doctor()

    assert error is None
    for part in (
        "Python",
        "PostgreSQL",
        "Debian packages",
        "tesseract (OCR)",
        "libmagic (uploads)",
        "File storage",
    ):
        assert line(report, part).lstrip().startswith("OK"), report
    # The test database's role: row-level security really applies.
    assert "row-level security applies" in line(report, "PostgreSQL")
    # Not running here, and told so with what starts it: a warning, not a failure.
    assert "make run starts one" in line(report, "Background worker")
    assert line(report, "Email").lstrip().startswith(("OK", "WARN"))


def test_without_tesseract_it_fails_and_gives_the_install_command(db, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")

    report, error = doctor()

    row = line(report, "tesseract (OCR)")
    assert row.lstrip().startswith("FAIL")
    assert "apt-get install -y --no-install-recommends tesseract-ocr" in row
    # Without PATH there is no dpkg either: the package list is only a warning.
    assert error == "Not ready: tesseract (OCR)."


def test_a_file_store_it_cannot_write_fails(db, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocker)

    report, error = doctor()

    assert line(report, "File storage").lstrip().startswith("FAIL")
    assert "MEDIA_ROOT" in line(report, "File storage")
    assert error == "Not ready: File storage."


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_smtp_server_that_does_not_answer_fails(db, settings, closed_port):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port},
        }
    }

    report, error = doctor()

    row = line(report, "Email")
    assert row.lstrip().startswith("FAIL")
    assert f"127.0.0.1:{closed_port} unreachable" in row
    assert error == "Not ready: Email."
