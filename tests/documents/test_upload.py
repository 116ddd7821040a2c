"""Uploading documents: what is kept, what is refused (and that a refusal leaves
neither a file nor a row), through the page's two ways in: a plain multipart
form, and the script's raw body per file."""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as WebClient

from advisoros.tenancy.db import tenant_context
from documents.models import Document, OcrStatus
from documents.services.documents import document_create
from documents.services.ocr import document_ocr_run
from documents.services.settings import document_settings_for
from documents.upload import UploadRejected, _WritingBehind
from tests.documents.conftest import stored_files
from tests.documents.scans import broken_pdf, encrypted_pdf, scan_png, text_layer_pdf
from tests.factories import LEDGER

W2_TEXT = ["Form W-2 Wage and Tax Statement 2024", "Employer: Acme Corp"]
# A Windows program's first bytes (DOS stub and PE signature) and a Linux one's.
WINDOWS_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 50
    + b"PE\x00\x00"
    + b"\x00" * 200
)
LINUX_PROGRAM = (
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100
)


def upload_url(client) -> str:
    return f"/o/alpha/clients/{client.uuid}/documents/upload/"


def documents_of(client) -> list[Document]:
    with tenant_context(client.organization):
        return list(Document.objects.filter(client=client).order_by("pk"))


def send_raw(web: WebClient, client, content: bytes, name: str, fields: str = ""):
    """What upload.js does for each file."""
    return web.post(
        upload_url(client),
        data=content,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME=quote(name),
        HTTP_X_DOCUMENT_FIELDS=fields,
        HTTP_ACCEPT="application/json",
        # As a browser sends it, even for an empty file (the test client omits it).
        CONTENT_TYPE="application/octet-stream",
    )


def answer(response) -> dict:
    (file,) = response.json()["files"]
    return file


def office_file(parts: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            archive.writestr(part, "<x/>" * 50)
    return buffer.getvalue()


def assert_nothing_kept(client, media_root: Path) -> None:
    assert documents_of(client) == []
    assert stored_files(media_root) == []


# Kept ---------------------------------------------------------------------------


def test_a_pdf_with_a_text_layer_is_stored_with_its_checksum_type_and_size(
    cast, login_as, jane, media_root
):
    content = text_layer_pdf(W2_TEXT)
    web = login_as(cast.sam)

    response = web.post(
        upload_url(jane),
        {
            "files": SimpleUploadedFile("W-2 2024.pdf", content, "application/pdf"),
            "category": "w2",
            "tax_year": "2024",
            "tags": "wages, 2024 return",
            "access_level": "standard",
        },
    )

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{jane.uuid}/?tab=documents"
    (document,) = documents_of(jane)
    assert document.title == "W-2 2024"
    assert document.original_filename == "W-2 2024.pdf"
    assert document.mime_type == "application/pdf"
    assert document.size == len(content)
    assert document.checksum == hashlib.sha256(content).hexdigest()
    assert (document.category, document.tax_year) == ("w2", 2024)
    assert document.tags == ["wages", "2024 return"]
    assert document.uploaded_by == cast.sam
    assert (document.version, document.is_latest_version) == (1, True)
    assert document.ocr_status == OcrStatus.PENDING
    # The stored file is the upload, under the document's uuid; nothing else is left.
    stored = media_root / document.file.name
    assert stored.read_bytes() == content
    assert str(document.uuid) in document.file.name
    assert stored_files(media_root) == [stored]
    flashes = [str(m) for m in response.wsgi_request._messages]
    assert flashes == ["W-2 2024.pdf uploaded."]


def test_the_script_sends_each_file_as_the_request_body_and_gets_its_outcome(
    cast, login_as, jane, media_root
):
    content = scan_png(W2_TEXT)

    response = send_raw(
        login_as(cast.sam),
        jane,
        content,
        "Scan – März.png",
        fields="category=w2&tax_year=2023&visible_to_client=on&access_level=standard",
    )

    assert response.status_code == 200
    result = answer(response)
    (document,) = documents_of(jane)
    assert result == {
        "name": "Scan – März.png",
        "ok": True,
        "message": "Scan – März.png uploaded.",
        "url": f"/o/alpha/documents/{document.uuid}/",
        "duplicate": False,
    }
    assert document.original_filename == "Scan – März.png"
    assert (document.mime_type, document.category, document.tax_year) == (
        "image/png",
        "w2",
        2023,
    )
    assert document.visible_to_client is True
    assert (media_root / document.file.name).read_bytes() == content


def test_a_file_of_many_megabytes_is_stored_byte_for_byte_with_its_checksum(
    cast, login_as, jane, media_root
):
    """Larger than the writer's writeback step (it starts the disk writing every
    few megabytes while the rest arrives) and than the read chunk: the stored
    file and its SHA-256 are the sent ones, whole."""
    content = text_layer_pdf(["Bank statement"]) + os.urandom(
        3 * _WritingBehind.EVERY + 12345
    )

    response = send_raw(login_as(cast.sam), jane, content, "statement.pdf")

    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    stored = (media_root / document.file.name).read_bytes()
    assert stored == content
    assert document.size == len(content)
    assert document.checksum == hashlib.sha256(content).hexdigest()


def test_the_daily_sweep_removes_only_abandoned_upload_files(
    cast, login_as, jane, media_root
):
    from documents.tasks_scheduled import documents_incoming_sweep
    from documents.upload import ABANDONED_AFTER_SECONDS, incoming_dir

    incoming = Path(incoming_dir())
    abandoned = incoming / "tmpcrashed.upload"
    arriving = incoming / "tmparriving.upload"
    other = incoming / "notes.txt"  # not an upload's temporary file
    for path in (abandoned, arriving, other):
        path.write_bytes(b"%PDF-1.4 partial")
    old = time.time() - ABANDONED_AFTER_SECONDS - 60
    os.utime(abandoned, (old, old))
    os.utime(other, (old, old))
    send_raw(login_as(cast.sam), jane, text_layer_pdf(["Kept"]), "kept.pdf")

    assert documents_incoming_sweep() == 1

    assert not abandoned.exists()
    assert arriving.exists() and other.exists()
    (document,) = documents_of(jane)
    assert (media_root / document.file.name).exists()  # stored files untouched


def test_several_files_go_in_one_form_and_each_gets_its_own_message(
    cast, login_as, jane, media_root
):
    response = login_as(cast.sam).post(
        upload_url(jane),
        {
            "files": [
                SimpleUploadedFile("one.pdf", text_layer_pdf(["One"])),
                SimpleUploadedFile("setup.pdf", WINDOWS_PROGRAM),
                SimpleUploadedFile("two.csv", b"date,amount\n2024-01-02,10.00\n"),
            ],
            "category": "other",
            "access_level": "standard",
        },
    )

    assert response.status_code == 302
    assert [d.original_filename for d in documents_of(jane)] == ["one.pdf", "two.csv"]
    assert len(stored_files(media_root)) == 2
    flashes = [(m.level_tag, str(m)) for m in response.wsgi_request._messages]
    assert flashes[0] == ("success", "one.pdf uploaded.")
    assert flashes[1][0] == "error" and "setup.pdf was not accepted" in flashes[1][1]
    assert flashes[2] == ("success", "two.csv uploaded.")


def test_office_documents_are_recognised_even_when_libmagic_only_sees_a_zip(cast, jane):
    # Word's own part order, which libmagic names, and another writer's order.
    words = office_file(["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
    other = office_file(["[Content_Types].xml", "word/document.xml", "_rels/.rels"])
    with tenant_context(cast.alpha):
        for name, content in (("a.docx", words), ("b.docx", other)):
            document = document_create(
                client=jane, file=ContentFile(content), filename=name
            )
            assert document.mime_type == (
                "application/vnd.openxmlformats-officedocument"
                ".wordprocessingml.document"
            )


@pytest.mark.parametrize(
    "maker", [encrypted_pdf, broken_pdf], ids=["encrypted", "broken"]
)
def test_encrypted_and_broken_pdfs_are_kept_and_ocr_marks_them_failed_with_the_reason(
    cast, login_as, jane, media_root, maker
):
    content = maker()

    response = send_raw(login_as(cast.sam), jane, content, "statement.pdf")

    assert response.status_code == 200 and answer(response)["ok"] is True
    (document,) = documents_of(jane)
    assert (media_root / document.file.name).read_bytes() == content
    with tenant_context(cast.alpha):
        document_ocr_run(document_id=document.pk)
        document.refresh_from_db()
    assert document.ocr_status == OcrStatus.FAILED
    assert document.ocr_error  # the reason, for people


# Refused, leaving nothing ---------------------------------------------------------


def test_an_empty_file_is_refused(cast, login_as, jane, media_root):
    response = send_raw(login_as(cast.sam), jane, b"", "empty.pdf")

    assert response.status_code == 400
    assert answer(response)["message"] == "empty.pdf is empty."
    assert_nothing_kept(jane, media_root)


def test_an_upload_over_the_firms_limit_is_stopped_and_nothing_is_kept(
    cast, login_as, jane, media_root
):
    with tenant_context(cast.alpha):
        limits = document_settings_for(cast.alpha)
        limits.max_upload_mb = 1
        limits.save()
    two_mb = text_layer_pdf(["Big"]) + b"\n%" + b"x" * (2 * 1024 * 1024)

    response = login_as(cast.sam).post(
        upload_url(jane),
        {"files": SimpleUploadedFile("big.pdf", two_mb), "access_level": "standard"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert answer(response)["message"] == (
        "big.pdf was not accepted: it is larger than the firm's limit of 1 MB."
    )
    assert_nothing_kept(jane, media_root)


def test_a_raw_upload_over_the_limit_is_refused_before_its_body_is_read(
    cast, login_as, jane, media_root
):
    with tenant_context(cast.alpha):
        limits = document_settings_for(cast.alpha)
        limits.max_upload_mb = 1
        limits.save()

    response = send_raw(login_as(cast.sam), jane, b"%PDF-1.4\n" * 200_000, "big.pdf")

    assert response.status_code == 413
    assert "larger than the firm's limit of 1 MB" in answer(response)["message"]
    assert_nothing_kept(jane, media_root)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (WINDOWS_PROGRAM, "a Windows program (application/x-dosexec)"),
        (LINUX_PROGRAM, "a program (executable) (application/x-executable)"),
    ],
    ids=["windows", "linux"],
)
def test_a_program_renamed_pdf_is_refused_naming_what_it_really_is(
    cast, login_as, jane, media_root, content, what
):
    response = send_raw(login_as(cast.sam), jane, content, "invoice.pdf")

    assert response.status_code == 400
    message = answer(response)["message"]
    assert message.startswith(
        f"invoice.pdf was not accepted: its content is {what}, not what its .pdf"
        " name says."
    )
    assert "Accepted: PDF" in message
    assert_nothing_kept(jane, media_root)


def test_content_that_contradicts_its_extension_is_refused(
    cast, login_as, jane, media_root
):
    response = send_raw(login_as(cast.sam), jane, scan_png(["Hello"]), "return.pdf")

    assert response.status_code == 400
    assert answer(response)["message"] == (
        "return.pdf was not accepted: the name ends in .pdf but the content is a PNG"
        " image (image/png). Rename it to match its content, or choose the intended"
        " file."
    )
    assert_nothing_kept(jane, media_root)


def test_a_zip_archive_named_docx_is_refused(cast, login_as, jane, media_root):
    archive = office_file(["payload/readme.txt", "payload/run.sh"])

    response = send_raw(login_as(cast.sam), jane, archive, "letter.docx")

    assert response.status_code == 400
    assert (
        "its content is a ZIP archive (application/zip)" in answer(response)["message"]
    )
    assert_nothing_kept(jane, media_root)


def test_a_refused_file_raises_a_clear_error_from_the_service_too(
    cast, jane, media_root
):
    with tenant_context(cast.alpha), pytest.raises(UploadRejected) as refused:
        document_create(
            client=jane, file=ContentFile(WINDOWS_PROGRAM), filename="setup.pdf"
        )

    assert "a Windows program" in refused.value.message
    assert_nothing_kept(jane, media_root)


# Names --------------------------------------------------------------------------


def test_a_name_with_path_tricks_is_stored_under_the_documents_uuid_and_shown_safely(
    cast, login_as, jane, media_root
):
    response = send_raw(login_as(cast.sam), jane, b"root:x:0:0\n", "../../etc/passwd")

    assert answer(response)["ok"] is True
    (document,) = documents_of(jane)
    # Kept as sent, for display; never used as a path.
    assert document.original_filename == "../../etc/passwd"
    assert document.title == "passwd"
    assert document.file.name == (f"private/{cast.alpha.pk}/documents/{document.uuid}")
    assert stored_files(media_root) == [media_root / document.file.name]
    download = login_as(cast.sam).get(f"/o/alpha/documents/{document.uuid}/download/")
    assert download["Content-Disposition"] == 'attachment; filename="passwd.txt"'


def test_control_characters_and_a_right_to_left_override_are_stripped_from_names(
    cast, jane
):
    with tenant_context(cast.alpha):
        document = document_create(
            client=jane,
            file=ContentFile(b"hello\n"),
            filename="report\x00\r\n\u202e2024 notes.txt",
        )

    # A right-to-left override would make "x\u202etxt.exe" read "xexe.txt".
    assert document.original_filename == "report2024 notes.txt"
    assert document.title == "report2024 notes"


def test_a_very_long_name_is_bounded_and_keeps_its_extension(cast, jane):
    with tenant_context(cast.alpha):
        document = document_create(
            client=jane, file=ContentFile(b"x\n"), filename="a" * 400 + ".txt"
        )

    assert len(document.original_filename) == 255
    assert document.original_filename.endswith(".txt")
    assert len(document.title) <= 200


# Duplicates and double submits ----------------------------------------------------


def test_the_same_file_twice_for_a_client_is_flagged_but_kept(
    cast, login_as, jane, media_root
):
    content = text_layer_pdf(["Same bytes"])
    web = login_as(cast.sam)
    send_raw(web, jane, content, "first.pdf")

    response = send_raw(web, jane, content, "again.pdf")

    first, again = documents_of(jane)
    assert again.duplicate_of_id == first.pk
    result = answer(response)
    assert result["ok"] is True and result["duplicate"] is True
    assert result["message"] == (
        "again.pdf uploaded. It is identical to “first” (version 1) already on file"
        " for this client."
    )
    page = web.get(result["url"]).content.decode()
    assert 'data-testid="duplicate"' in page and ">first</a>" in page


def test_the_same_file_for_another_client_is_not_a_duplicate(cast, jane):
    content = b"date,amount\n2024-01-02,10.00\n"
    with tenant_context(cast.alpha):
        from clients.services.clients import client_create

        john = client_create(organization=cast.alpha, data={"display_name": "John"})
        document_create(client=jane, file=ContentFile(content), filename="a.csv")
        other = document_create(
            client=john, file=ContentFile(content), filename="a.csv"
        )

    assert other.duplicate_of_id is None


def test_a_form_sent_twice_stores_its_files_once(cast, login_as, jane, media_root):
    web = login_as(cast.sam)
    form = {"access_level": "standard", "upload_token": "a1b2c3"}
    content = text_layer_pdf(["Twice"])

    first = web.post(
        upload_url(jane), {**form, "files": SimpleUploadedFile("t.pdf", content)}
    )
    second = web.post(
        upload_url(jane), {**form, "files": SimpleUploadedFile("t.pdf", content)}
    )

    assert first.status_code == second.status_code == 302
    assert len(documents_of(jane)) == 1
    assert len(stored_files(media_root)) == 1
    # (The first answer's message is still waiting in the session: no page shown.)
    assert [str(m) for m in second.wsgi_request._messages] == [
        "t.pdf uploaded.",
        "t.pdf had already been received from this form.",
    ]


# The page and its guards ------------------------------------------------------------


def test_the_upload_page_offers_drop_zone_progress_and_the_firms_limit(
    cast, login_as, jane
):
    html = login_as(cast.sam).get(upload_url(jane)).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert 'name="files"' in html and "multiple" in html
    assert "data-dropzone" in html and "data-upload-list" in html
    assert 'data-max-bytes="209715200"' in html
    assert "Up to 200.0\xa0MB each" in html
    assert 'name="upload_token"' in html
    assert "js/upload.js" in html


def test_an_upload_without_a_csrf_token_is_refused_and_nothing_is_kept(
    cast, jane, media_root
):
    web = WebClient(enforce_csrf_checks=True)
    web.force_login(cast.sam)

    response = web.post(
        upload_url(jane),
        {"files": SimpleUploadedFile("a.pdf", text_layer_pdf(["x"]))},
    )

    assert response.status_code == 403
    assert_nothing_kept(jane, media_root)


def test_an_upload_with_the_csrf_header_is_accepted(cast, jane, media_root):
    web = WebClient(enforce_csrf_checks=True)
    web.force_login(cast.sam)
    web.get(upload_url(jane))  # sets the CSRF cookie
    token = web.cookies["csrftoken"].value

    response = send_raw(web, jane, b"hello\n", "hello.txt")
    refused = response.status_code
    response = web.post(
        upload_url(jane),
        data=b"hello\n",
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME="hello.txt",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT="application/json",
    )

    assert refused == 403
    assert response.status_code == 200
    assert len(documents_of(jane)) == 1


def test_a_read_only_member_cannot_upload(cast, login_as, jane, media_root):
    response = send_raw(login_as(cast.rita), jane, b"hello\n", "hello.txt")

    assert response.status_code == 403
    assert_nothing_kept(jane, media_root)


def test_another_firms_client_is_not_found_and_its_body_is_not_read(
    cast, login_as, beta_client, media_root
):
    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{beta_client.uuid}/documents/upload/",
        {"files": SimpleUploadedFile("a.pdf", text_layer_pdf(["x"]))},
    )

    assert response.status_code == 404
    assert stored_files(media_root) == []


# The firm's plan (advisoros.tenancy.plans) --------------------------------------


@pytest.fixture
def alpha_almost_full(cast, jane, alpha_on_starter):
    """Alpha's Starter plan holds 1 GB: a stored file of 1 GB less 100 bytes."""
    from tests.factories import make_document

    return make_document(jane, size=1024**3 - 100)


def test_a_file_beyond_the_plans_storage_is_refused_and_nothing_is_kept(
    cast, login_as, jane, media_root, alpha_almost_full
):
    content = LEDGER * 8
    response = send_raw(login_as(cast.sam), jane, content, "big.csv")

    assert response.status_code == 400
    assert answer(response)["message"] == (
        "big.csv was not stored. Your plan (Starter) allows 1 GB of documents "
        f"(1 GB used, this is {len(content)} bytes); upgrade on the Subscription page."
    )
    assert documents_of(jane) == [alpha_almost_full]
    assert stored_files(media_root) == []


def test_a_file_that_fits_the_plan_is_kept(
    cast, login_as, jane, media_root, alpha_almost_full
):
    response = send_raw(login_as(cast.sam), jane, LEDGER, "ledger.csv")

    assert response.status_code == 200
    assert len(documents_of(jane)) == 2


def test_a_client_is_told_the_firm_cannot_store_more_without_the_plans_name(
    cast, jane, media_root, alpha_almost_full
):
    from documents.upload import UploadOverPlan

    with tenant_context(cast.alpha), pytest.raises(UploadOverPlan) as refused:
        document_create(client=jane, file=ContentFile(b"y" * 500), filename="w2.csv")

    assert refused.value.message == (
        "We could not accept w2.csv: the firm cannot store more files at the moment."
        " Please let them know, or send it another way."
    )
    assert stored_files(media_root) == []


def test_a_new_version_beyond_the_plan_is_refused_too(
    cast, login_as, jane, media_root, alpha_on_starter, starter
):
    from documents.services.documents import document_add_version
    from documents.upload import UploadOverPlan

    with tenant_context(cast.alpha):
        first = document_create(client=jane, file=ContentFile(LEDGER), filename="l.csv")
    starter.max_storage_gb = 0
    starter.save()

    with tenant_context(cast.alpha), pytest.raises(UploadOverPlan):
        document_add_version(document=first, file=ContentFile(LEDGER), filename="l.csv")

    assert documents_of(jane) == [first]
    assert len(stored_files(media_root)) == 1
