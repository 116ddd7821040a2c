"""The upload attack set through the staff upload page (the script's raw body),
with the real clamd: each file is refused within a second, or answered within a
second and quarantined by the scan job that its commit queues (documents.services
.scan; run here as the commit would, `_upload`), and nothing is left behind but
a quarantined row whose file is never served.

What is accepted is defused when served: a PNG that is also HTML is an image
under a sandboxing CSP with nosniff; a PDF with JavaScript is download-only."""

from __future__ import annotations

import time

import pytest

from documents.models import ScanStatus
from tests import attack_files
from tests.documents.conftest import stored_files
from tests.documents.test_upload import answer, documents_of, send_raw
from tests.factories import make_client

pytestmark = pytest.mark.django_db

REFUSED = {
    "svg_with_script": "SVG image",
    "pixel_bomb": "too large",
    "zip_bomb_docx": "compression bomb",
    "many_pages_pdf": "pages",
    "doc_with_macros": "macros",
    "docx_with_macros": "macros",
}


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Send a file as the page's script does, then run what its commit queues
    (the scan job, then OCR or the quarantine alert: django-q2's sync mode)."""

    def send(web, client, name, content):
        with django_capture_on_commit_callbacks(execute=True):
            return send_raw(web, client, content, name)

    return send


@pytest.fixture
def timed_upload(django_capture_on_commit_callbacks):
    """The upload request's time (not the scan job's, which runs after it),
    after one clean upload of another client's has paid for the process's first
    request (imports, libmagic's database)."""

    def send(web, client, name, content):
        other = make_client(client.organization, "Warm Up")
        assert answer(send_raw(web, other, *reversed(attack_files.clean_pdf())))["ok"]
        with django_capture_on_commit_callbacks() as callbacks:
            started = time.monotonic()
            response = send_raw(web, client, content, name)
            elapsed = time.monotonic() - started
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()
        return response, elapsed

    return send


@pytest.mark.parametrize("attack", sorted(REFUSED))
def test_each_attack_is_refused_within_a_second_leaving_nothing(
    attack, cast, jane, login_as, scanner, media_root, timed_upload
):
    name, content = getattr(attack_files, attack)()
    web = login_as(cast.sam)

    response, elapsed = timed_upload(web, jane, name, content)

    assert elapsed < 1.0
    result = answer(response)
    assert result["ok"] is False
    assert REFUSED[attack] in result["message"]
    assert documents_of(jane) == []
    assert len(stored_files(media_root)) == 1  # the warm-up's file only


def test_eicar_is_answered_within_a_second_quarantined_and_never_served(
    cast, jane, login_as, scanner, timed_upload
):
    name, content = attack_files.eicar_txt()
    web = login_as(cast.sam)

    response, elapsed = timed_upload(web, jane, name, content)

    assert elapsed < 1.0
    assert "checking it for viruses" in answer(response)["message"]
    (document,) = documents_of(jane)
    assert document.scan_status == ScanStatus.INFECTED
    download = web.get(f"/o/alpha/documents/{document.uuid}/download/")
    assert download.status_code == 403
    assert content not in download.content


def test_a_png_that_is_also_html_is_only_ever_an_image(
    cast, jane, login_as, scanner, timed_upload
):
    name, content = attack_files.png_html_polyglot()
    web = login_as(cast.sam)

    response, elapsed = timed_upload(web, jane, name, content)

    assert elapsed < 1.0
    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    assert document.mime_type == "image/png"
    view = web.get(f"/o/alpha/documents/{document.uuid}/view/")
    assert view["Content-Type"] == "image/png"
    assert view["X-Content-Type-Options"] == "nosniff"
    assert view["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in view["Content-Security-Policy"]
    assert "script-src" not in view["Content-Security-Policy"]


def test_a_pdf_with_javascript_is_download_only(
    cast, jane, login_as, scanner, timed_upload
):
    name, content = attack_files.pdf_with_javascript()
    web = login_as(cast.sam)

    response, elapsed = timed_upload(web, jane, name, content)

    assert elapsed < 1.0
    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    assert document.has_scripts is True
    view = web.get(f"/o/alpha/documents/{document.uuid}/view/")
    assert view["Content-Disposition"].startswith("attachment;")
    assert view["X-Content-Type-Options"] == "nosniff"
    page = web.get(f"/o/alpha/documents/{document.uuid}/").content.decode()
    assert 'data-testid="has-scripts"' in page
    assert f"/documents/{document.uuid}/view/" not in page


def test_a_clean_pdf_is_shown_inline_in_a_sandbox(
    cast, jane, login_as, scanner, upload
):
    name, content = attack_files.clean_pdf()
    web = login_as(cast.sam)

    answer(upload(web, jane, name, content))

    (document,) = documents_of(jane)
    assert document.has_scripts is False
    assert document.scan_status == ScanStatus.CLEAN
    view = web.get(f"/o/alpha/documents/{document.uuid}/view/")
    assert view["Content-Disposition"].startswith("inline;")
    assert view["Content-Security-Policy"].startswith("sandbox;")


def test_a_legacy_word_file_without_macros_is_accepted(
    cast, jane, login_as, scanner, upload
):
    name, content = attack_files.doc_without_macros()
    web = login_as(cast.sam)

    assert answer(upload(web, jane, name, content))["ok"] is True
    (document,) = documents_of(jane)
    download = web.get(f"/o/alpha/documents/{document.uuid}/view/")
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_large_but_honest_image_is_accepted(cast, jane, login_as, scanner):
    name, content = "photo.png", attack_files.png(4000, 3000)
    web = login_as(cast.sam)

    assert answer(send_raw(web, jane, content, name))["ok"] is True


def test_no_code_path_extracts_an_archive():
    """Archives are read by their directory only: nothing calls extract."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for folder in ("advisoros", "clients", "documents", "portal", "workflows"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            assert "extractall(" not in text, path
            assert ".extract(" not in text, path
