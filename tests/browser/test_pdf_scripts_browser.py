"""A PDF whose /OpenAction runs JavaScript, opened through its view URL in the
real Chromium: it is offered as a download (never rendered on the app's
address), and its script never reaches anything (it would call an address on
the live server that records every request)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from advisoros.tenancy.db import tenant_context
from documents.services.documents import document_create
from tests.attack_files import pdf_with_javascript
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.factories import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pdf_with_javascript_is_downloaded_and_its_script_never_runs(
    cast, page, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    hit = f"{live_server.url}/pdf-script-ran/"
    name, content = pdf_with_javascript(hit)
    with tenant_context(cast.alpha):
        jane = make_client(cast.alpha, "Jane Example")
        document = document_create(
            client=jane, file=ContentFile(content), filename=name
        )
    assert document.has_scripts
    requested: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, cast.sam.email, PASSWORD)

    with page.expect_download() as download:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url;"
            " document.body.appendChild(a); a.click(); }",
            f"/o/alpha/documents/{document.uuid}/view/",
        )
    page.wait_for_timeout(1500)

    assert download.value.suggested_filename == name
    assert not any("pdf-script-ran" in url for url in requested)
    assert dialogs == []
