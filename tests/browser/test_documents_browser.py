"""A staff member uploads two files in Chromium, watches the per-file progress,
sees the scan read by OCR, and finds a word of the scan through search.

The upload goes the page's own way (upload.js: one request per file with a
progress bar); OCR runs when the upload commits (django-q2's sync mode in the
test settings, the worker's job in production); the search page is the real
one, row-level security and all. Any console error (a CSP violation is one)
fails the test.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from clients.services.clients import client_create
from documents.demo_scans import W2_LINES, scan_png, text_layer_pdf
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_files_upload_with_progress_the_scan_is_read_and_found(
    cast, page, console_errors, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(cast.alpha):
        jane = client_create(
            organization=cast.alpha, data={"display_name": "Jane Example"}
        )
    sign_in(page, cast.sam.email, PASSWORD)

    page.goto(f"/o/alpha/clients/{jane.uuid}/documents/upload/")
    page.locator("#id_files").set_input_files(
        [
            {
                "name": "w2-scan.png",
                "mimeType": "image/png",
                "buffer": scan_png(W2_LINES),
            },
            {
                "name": "statement.pdf",
                "mimeType": "application/pdf",
                "buffer": text_layer_pdf(["Riverside Savings Bank", "Statement"]),
            },
        ]
    )
    rows = page.get_by_test_id("upload-list").locator("li")
    expect(rows).to_have_count(2)
    expect(rows.locator("progress")).to_have_count(2)
    page.get_by_role("button", name="Upload").click()

    # Both rows end accepted, their bars full, each with a link to its document.
    accepted = page.locator(
        "[data-testid=upload-list] li.upload-ok, [data-testid=upload-list] li.upload-warning"
    )
    expect(accepted).to_have_count(2, timeout=60_000)
    for i in range(2):
        assert rows.nth(i).locator("progress").get_attribute("value") == "100"
    rows.filter(has_text="w2-scan.png").get_by_role("link", name="Open").click()

    status = page.get_by_test_id("ocr-status")
    expect(status).to_have_attribute("data-ocr-status", "completed", timeout=30_000)
    expect(page.get_by_test_id("ocr-suggestion")).to_contain_text("W-2")

    page.goto("/o/alpha/documents/?q=Northwind")
    results = page.get_by_test_id("document-results")
    expect(results).to_contain_text("w2-scan")
    expect(results.locator("mark").first).to_have_text("Northwind")
    assert "statement" not in results.inner_text().lower()
    assert console_errors == []
