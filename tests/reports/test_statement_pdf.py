"""Statement PDFs: drawn by WeasyPrint in a job, the firm's name and the
page's figures in its text, kept under the firm's private path, served after
the viewer's check; a build that fails says so on the page."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from advisoros.tenancy.db import tenant_context
from reports.models import OutputStatus, StatementOutput, StatementTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

QUERY = {"end": "2026-12-31", "period": "month", "compare": "both"}


def _post(http, client, capture, **form):
    url = reverse(
        "reports:output_create",
        kwargs={"org_slug": "alpha", "client_uuid": client.uuid},
    )
    with capture(execute=True):
        return http.post(url, {**QUERY, "format": "pdf", **form})


def test_the_package_pdf_holds_the_firm_the_client_and_the_figures(
    cast, login_as, acme, books, django_capture_on_commit_callbacks
):
    books(acme, 14)
    with tenant_context(cast.alpha):
        StatementTemplate.objects.create(
            organization=cast.alpha,
            client=acme,
            title="Monthly pack",
            statements=["balance_sheet", "profit_and_loss"],
            footer="Compiled without audit.",
        )
    http = login_as(cast.sam)

    _post(
        http,
        acme,
        django_capture_on_commit_callbacks,
        kind="package",
        page="balance_sheet",
    )

    with tenant_context(cast.alpha):
        output = StatementOutput.objects.get()
    assert output.status == OutputStatus.READY, output.error
    download = http.get(
        reverse(
            "reports:output_download",
            kwargs={"org_slug": "alpha", "statement_output_uuid": output.uuid},
        )
    )
    data = b"".join(download.streaming_content)
    assert data.startswith(b"%PDF")
    assert download["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Alpha Accounting" in text
    assert "Acme Trading" in text
    assert "Compiled without audit." in text
    # Its statements in the template's order, with the page's figures.
    assert text.index("Balance sheet") < text.index("Profit and loss")
    page = http.get(
        reverse(
            "reports:profit_and_loss",
            kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
        ),
        QUERY,
    )
    net_income = next(r for r in page.context["report"].rows if r.label == "Net income")
    assert f"{net_income.amounts[0]:,.2f}" in text


def test_a_build_that_fails_says_so_on_the_page(
    cast, login_as, acme, books, media, django_capture_on_commit_callbacks
):
    books(acme, 2)
    (media / "private").write_text("a file where the folder should be")
    http = login_as(cast.sam)

    _post(http, acme, django_capture_on_commit_callbacks, kind="profit_and_loss")
    panel = http.get(
        reverse(
            "reports:profit_and_loss",
            kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
        ),
        {**QUERY, "outputs": "1"},  # the panel alone, as htmx polls it
    )

    with tenant_context(cast.alpha):
        output = StatementOutput.objects.get()
    assert output.status == OutputStatus.FAILED
    assert not output.file
    html = panel.content.decode()
    assert html.lstrip().startswith('<div class="panel statement-outputs"')
    assert 'data-testid="output-failed"' in html
    assert "could not be built" in html
    # The reason is the log's (a path on the server here), not the page's.
    assert "An unexpected error stopped it" in html
    assert str(media) not in html and str(media) not in output.error
    assert "hx-trigger" not in html  # nothing left to wait for
