"""Invoice PDFs: templates/billing/invoice_pdf.html drawn by WeasyPrint.

An issued invoice's PDF is rendered once, by a job queued when it is issued
(billing.tasks.invoice_send_job), and kept in the private storage beside the
firm's other files (`private/<firm id>/invoices/<uuid>.pdf`, `Invoice.pdf`).
It is never served by a URL of its own: a page checks the viewer first, then
`invoice_pdf_response` answers with the file (a presigned link on S3), making
it again if it went missing. A draft's PDF is a preview, drawn on each request
and never stored.

Nothing leaves the machine while a PDF is drawn: the template holds its own
styles, and the URL fetcher WeasyPrint is given serves the firm's logo from the
storage and refuses every other address (http, file, data ...), so text a
client or member typed can never make the server fetch anything.
"""

from __future__ import annotations

from urllib import request

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from advisoros.tenancy.branding import LOGO_MAX_BYTES, LOGO_TYPES, brand_palette
from advisoros.tenancy.models import Organization
from billing.links import invoice_link_for
from billing.models import Invoice, InvoiceKind
from billing.selectors import billing_settings
from documents.storage import storage_is_local

# The one address the template may name: the firm's logo, read from the storage.
LOGO_URL = "firm-logo:logo"
PDF_TYPE = "application/pdf"


class FirmLogoFetcher(URLFetcher):
    """WeasyPrint's URL fetcher for invoices: the firm's logo and nothing else."""

    def __init__(self, organization: Organization):
        # Not URLFetcher.__init__: it builds urllib's openers, an SSL context
        # among them (a tenth of a second a PDF, measured), for the network this
        # fetcher never uses. The attributes WeasyPrint reads are set here.
        request.OpenerDirector.__init__(self)
        self._timeout = 1
        self._http_headers = {}
        self._allowed_protocols = ("firm-logo",)
        self._fail_on_errors = False
        self._request = None
        self.organization = organization

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url != LOGO_URL or not self.organization.logo:
            raise ValueError(f"An invoice PDF fetches nothing: {url[:80]} refused.")
        with self.organization.logo.open("rb") as handle:
            data = handle.read(LOGO_MAX_BYTES + 1)
        kind = next(
            (t for t, magic in LOGO_TYPES.items() if data.startswith(magic)), ""
        )
        if not kind or len(data) > LOGO_MAX_BYTES:
            raise ValueError("The firm's logo is not a PNG or JPEG image.")
        return URLFetcherResponse(url, body=data, headers={"Content-Type": kind})


def pdf_storage() -> Storage:
    return Invoice._meta.get_field("pdf").storage


def invoice_pdf_name(invoice: Invoice) -> str:
    return f"private/{invoice.organization_id}/invoices/{invoice.uuid}.pdf"


def invoice_pdf_filename(invoice: Invoice) -> str:
    return "draft-invoice.pdf" if invoice.is_draft else f"{invoice}.pdf"


def invoice_pdf_html(invoice: Invoice) -> str:
    """The HTML WeasyPrint draws: the invoice as its client reads it (what each
    line bills; never the write-ups and write-downs against standard value)."""
    organization = Organization.objects.get(pk=invoice.organization_id)
    rules = billing_settings(organization)
    lines = list(invoice.lines.order_by("position", "pk"))
    credited = (
        Invoice.objects.filter(
            organization_id=invoice.organization_id, pk=invoice.credited_invoice_id
        ).first()
        if invoice.credited_invoice_id
        else None
    )
    ctx = {
        "organization": organization,
        "invoice": invoice,
        "client": invoice.client,
        "engagement": invoice.engagement,
        "lines": lines,
        "credited": credited,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "palette": brand_palette(organization.brand_color),
        "logo_url": LOGO_URL if organization.logo else "",
        "footer": rules.invoice_footer,
        "pay_link": invoice_link_for(invoice=invoice) if invoice.is_open else "",
    }
    return render_to_string("billing/invoice_pdf.html", ctx)


def invoice_pdf_render(invoice: Invoice) -> bytes:
    organization = Organization.objects.get(pk=invoice.organization_id)
    html = HTML(
        string=invoice_pdf_html(invoice), url_fetcher=FirmLogoFetcher(organization)
    )
    return html.write_pdf()


def invoice_pdf_store(invoice: Invoice) -> bytes:
    """Draw an issued invoice's PDF and keep it, in place of any earlier one (a
    voided invoice's PDF says VOID). Returns the bytes."""
    if invoice.is_draft:
        raise ValueError("A draft's PDF is a preview and is not kept.")
    data = invoice_pdf_render(invoice)
    storage = pdf_storage()
    name = invoice_pdf_name(invoice)
    if storage.exists(name):
        storage.delete(name)
    stored = storage.save(name, ContentFile(data), max_length=300)
    # Not save(): the file's name is all that changed, and the change log has
    # nothing to say about it.
    Invoice.objects.filter(
        organization_id=invoice.organization_id, pk=invoice.pk
    ).update(pdf=stored)
    invoice.pdf.name = stored
    return data


def _stored(invoice: Invoice) -> bool:
    return bool(invoice.pdf) and pdf_storage().exists(invoice.pdf.name)


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The PDF of `invoice`: the stored one, made (and stored) when missing; a
    draft's preview is drawn each time. For the email's attachment and for the
    portal, after their own checks."""
    if invoice.is_draft:
        return invoice_pdf_render(invoice)
    if _stored(invoice):
        with pdf_storage().open(invoice.pdf.name, "rb") as handle:
            return handle.read()
    return invoice_pdf_store(invoice)


def invoice_pdf_response(
    request: HttpRequest, invoice: Invoice, *, inline: bool = True
) -> HttpResponse:
    """The PDF of `invoice` to a viewer whose access the caller has checked: the
    stored file (a short-lived presigned link when the storage is S3), or a
    fresh one when it is missing (stored for next time) or a draft."""
    filename = invoice_pdf_filename(invoice)
    storage = pdf_storage()
    response: HttpResponse
    if not invoice.is_draft and _stored(invoice):
        if storage_is_local(storage):
            response = FileResponse(
                storage.open(invoice.pdf.name, "rb"),
                as_attachment=not inline,
                filename=filename,
                content_type=PDF_TYPE,
            )
        else:
            response = HttpResponseRedirect(
                storage.url(
                    invoice.pdf.name,
                    parameters={
                        "ResponseContentDisposition": content_disposition_header(
                            not inline, filename
                        ),
                        "ResponseContentType": PDF_TYPE,
                        "ResponseCacheControl": "private, no-store",
                    },
                )
            )
    else:
        response = HttpResponse(invoice_pdf_bytes(invoice), content_type=PDF_TYPE)
        response["Content-Disposition"] = content_disposition_header(
            not inline, filename
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def invoice_pdf_for_client(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """What the client portal serves once it has checked the contact's grant on
    the invoice's client: an issued invoice's PDF, never a draft's."""
    if invoice.is_draft:
        raise Http404("No such invoice.")
    return invoice_pdf_response(request, invoice)
