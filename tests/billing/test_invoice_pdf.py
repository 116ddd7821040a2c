"""The invoice PDF: WeasyPrint from the HTML template with the firm's name, logo
and colour and page numbers; kept in the private storage and served only after
the viewer's check (made again when missing); nothing fetched from anywhere."""

from __future__ import annotations

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import RequestFactory
from pypdf import PdfReader

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice
from billing.pdf import (
    LOGO_URL,
    FirmLogoFetcher,
    invoice_pdf_bytes,
    invoice_pdf_for_client,
    invoice_pdf_html,
    invoice_pdf_render,
    invoice_pdf_store,
)
from billing.services.invoices import invoice_update
from documents.content_checks import pdf_has_scripts
from tests.factories import make_draft_invoice

D = Decimal
# The smallest PNG there is: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/pdf/"


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def _body(response) -> bytes:
    return (
        b"".join(response.streaming_content) if response.streaming else response.content
    )


def test_the_pdf_has_the_number_the_client_the_lines_and_a_page_number(
    cast, login_as, jane, issued
):
    response = login_as(cast.sam).get(_url(issued))
    data = _body(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="INV-00001.pdf"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    # Chromium's viewer shows nothing under a CSP; the file holds no script.
    assert "Content-Security-Policy" not in response
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "INV-00001" in text and "Alpha Accounting" in text and "Jane Doe" in text
    assert "Tax return" in text and "500.00" in text
    assert "Page 1 of 1" in text


def test_the_pdf_holds_no_script(cast, login_as, issued, media_root):
    login_as(cast.sam).get(_url(issued))
    with tenant_context(cast.alpha):
        stored = Invoice.objects.get(pk=issued.pk).pdf.name

    # The uploads' own check: what lets the page go without a CSP.
    assert pdf_has_scripts(str(media_root / stored)) is False


def test_it_is_stored_privately_and_made_again_when_missing(
    cast, login_as, issued, media_root
):
    web = login_as(cast.sam)
    first = _body(web.get(_url(issued)))
    with tenant_context(cast.alpha):
        stored = Invoice.objects.get(pk=issued.pk).pdf.name
    assert stored == f"private/{cast.alpha.pk}/invoices/{issued.uuid}.pdf"
    assert (media_root / stored).read_bytes() == first

    (media_root / stored).unlink()
    again = web.get(_url(issued))

    assert again.status_code == 200 and _body(again).startswith(b"%PDF")
    assert (media_root / stored).exists()


def test_a_stored_pdf_is_served_as_it_is(cast, login_as, issued, media_root):
    with tenant_context(cast.alpha):
        invoice_pdf_store(issued)
        name = Invoice.objects.get(pk=issued.pk).pdf.name
    (media_root / name).write_bytes(b"%PDF-1.7 the kept one")

    response = login_as(cast.sam).get(_url(issued) + "?download=1")

    assert _body(response) == b"%PDF-1.7 the kept one"
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_drafts_pdf_is_a_preview_never_kept(cast, login_as, draft, media_root):
    data = _body(login_as(cast.sam).get(_url(draft)))

    assert "DRAFT" in _text(data)
    assert list(media_root.rglob("*.pdf")) == []


def test_only_members_of_the_firm_get_it(cast, login_as, issued):
    assert login_as(cast.rita).get(_url(issued)).status_code == 200  # read-only
    assert login_as(cast.oscar).get(_url(issued)).status_code == 404
    beta = login_as(cast.oscar).get(f"/o/beta/billing/invoices/{issued.uuid}/pdf/")
    assert beta.status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(cast, client, issued):
    response = client.get(_url(issued))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_pdf_carries_the_firms_brand_and_logo(cast, issued):
    with platform_bypass():
        firm = Organization.objects.get(pk=cast.alpha.pk)
        firm.brand_color = "#0f766e"
        firm.logo.save("logo", ContentFile(PNG), save=True)
    with tenant_context(cast.alpha):
        html = invoice_pdf_html(issued)
        data = invoice_pdf_render(issued)

    assert "#0f766e" in html and f'src="{LOGO_URL}"' in html
    images = [img for page in PdfReader(BytesIO(data)).pages for img in page.images]
    assert len(images) == 1


def test_the_memo_discount_tax_and_footer_are_printed(cast, jane, draft):
    from billing.selectors import billing_settings

    with tenant_context(cast.alpha):
        rules = billing_settings(cast.alpha)
        rules.invoice_footer = "Pay by wire to ACME Bank 123"
        rules.save()
        invoice_update(
            invoice=draft,
            by=cast.sam,
            memo="Thanks, Jane",
            discount_percent=D("10"),
            tax_rate=D("5"),
        )
        draft.refresh_from_db()
        text = _text(invoice_pdf_render(draft))

    assert "Thanks, Jane" in text and "Pay by wire to ACME Bank 123" in text
    assert "Discount (10%)" in text and "Tax (5%)" in text and "472.50" in text


def test_a_long_invoice_numbers_its_pages(cast, jane):
    lines = [(f"Line {n}", "1", "10") for n in range(80)]
    invoice = make_draft_invoice(jane, cast.sam, lines=lines)
    with tenant_context(cast.alpha):
        pages = PdfReader(BytesIO(invoice_pdf_render(invoice))).pages

    count = len(pages)
    assert count >= 2
    assert f"Page 1 of {count}" in pages[0].extract_text()
    assert f"Page {count} of {count}" in pages[-1].extract_text()
    assert "Line 79" in pages[-1].extract_text()


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A real HTTP server on loopback that records every request it gets."""
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_nothing_is_fetched_from_the_network_or_the_disk(cast, jane, listener):
    fetcher = FirmLogoFetcher(cast.alpha)
    for url in (f"{listener}/pixel.png", "file:///etc/passwd", "data:image/png,x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    # Text typed into an invoice is escaped, but even markup reaching the
    # renderer could fetch nothing: the fetcher is WeasyPrint's only way out.
    from weasyprint import HTML

    HTML(
        string=f'<img src="{listener}/a.png"><link rel=stylesheet href="{listener}/s">',
        url_fetcher=fetcher,
    ).write_pdf()
    assert _Recorder.hits == []


def test_a_firm_without_a_logo_serves_none(cast):
    with pytest.raises(ValueError):
        FirmLogoFetcher(cast.alpha).fetch(LOGO_URL)


def test_the_portal_gets_an_issued_invoices_pdf_and_never_a_drafts(cast, issued, draft):
    request = RequestFactory().get("/p/alpha/invoices/x/pdf/")
    with tenant_context(cast.alpha):
        response = invoice_pdf_for_client(request, issued)
        with pytest.raises(Http404):
            invoice_pdf_for_client(request, draft)
        assert invoice_pdf_bytes(issued).startswith(b"%PDF")

    assert _body(response).startswith(b"%PDF")


def test_its_fonts_are_subset_by_harfbuzz_and_embedded_small(cast, issued):
    """HarfBuzz's subsetter (Debian's libharfbuzz-subset0) is what keeps a PDF
    under half a second (bench: invoice_pdf); fontTools, WeasyPrint's fallback,
    takes four times as long. Only the glyphs used are embedded."""
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None, "install libharfbuzz-subset0"
    with tenant_context(cast.alpha):
        data = invoice_pdf_render(issued)

    reader = PdfReader(BytesIO(data))
    fonts = [
        font["/BaseFont"] for font in reader.pages[0]["/Resources"]["/Font"].values()
    ]
    assert fonts and all("+" in str(name) for name in fonts)  # subset tags
    assert len(data) < 60_000
