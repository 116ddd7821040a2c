"""Benchmarks of the invoice pages (registered from bench/harness.py discover()).

`invoice_pdf`: the time WeasyPrint takes to draw a one-page invoice (eight
lines, a discount, tax, a memo, the footer and the firm's logo), through
billing.pdf as the issuing job draws it: two warm-up renders, then RUNS
measured ones; median, p95 and best, the PDF's size and pages. Target: under
0.5 s (issue 13). The invoice lives in a firm of its own, `bench-pdf`, made on
the first run; it stays a draft (issuing would queue its email), which draws
the same page with a DRAFT stamp over it.

Beside it, the yardstick: a bare ten-row table drawn by WeasyPrint with no
styles, timed in turns with the invoice. On a busy machine both slow down
together; their ratio says what the invoice's own layout costs.

The invoice pages at bench-1k and bench-100k, with the invoices and time of
bench/billing_seed.py (as many invoices as clients): the list's first page, a
page 200 deep (its "Next" link followed), the overdue invoices (oldest due
first, from the open invoices' index), a search by number, and an issued
invoice's page with its payments. Target: p95 under 25 ms at 100,000 invoices,
a 100k/1k ratio under 1.3, the same queries at both sizes.
"""

from __future__ import annotations

import re
import statistics
import time
from decimal import Decimal
from html import unescape
from io import BytesIO

from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader
from weasyprint import HTML

from advisoros.tenancy.db import tenant_context
from bench.harness import (
    BenchFirm,
    bench_firm_ensure,
    register_measure,
    register_scenario,
)
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from billing.pdf import invoice_pdf_render
from billing.selectors import billing_settings
from billing.services.invoices import (
    invoice_add_line,
    invoice_create,
    invoice_update,
)
from clients.models import Client
from clients.services.clients import client_create

FIRM = "bench-pdf"
RUNS = 12
TARGET_S = 0.5
# The smallest PNG there is: one transparent pixel (the fetcher's path is timed).
LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)
LINES = [
    ("Individual tax return (Form 1040) with schedules C and E", "1", "1450"),
    ("State return", "1", "350"),
    ("Bookkeeping: January to March", "3", "425"),
    ("Payroll filings (941, state withholding)", "3", "95"),
    ("Advisory meeting: entity choice", "2.5", "240"),
    ("Estimated tax vouchers", "4", "25"),
    ("Courier and filing fees", "1", "38.50"),
    ("Quarterly retainer", "1", "900"),
]


DEEP_PAGES = 200
_NEXT_LINK = re.compile(r'<a\b[^>]*\brel="next"[^>]*>')
_HREF = re.compile(r'\bhref="([^"]+)"')


# The invoice pages -------------------------------------------------------------------


def _invoice_list(firm: BenchFirm, query: str = "") -> str:
    url = reverse("billing:invoice_list", args=[firm.organization.slug])
    return f"{url}?{query}" if query else url


@register_scenario("invoice_list_first_page")
def invoice_list_first_page(firm: BenchFirm) -> str:
    return _invoice_list(firm)


@register_scenario("invoice_list_deep_page")
def invoice_list_deep_page(firm: BenchFirm) -> str:
    """Follow the "Next" link 200 pages deep, or to the last page of a small firm."""
    path = _invoice_list(firm)
    for _ in range(DEEP_PAGES):
        html = firm.http.get(path).content.decode()
        link = _NEXT_LINK.search(html)
        if link is None:
            break
        path = unescape(_HREF.search(link.group(0)).group(1))
    return path


@register_scenario("invoice_list_overdue")
def invoice_list_overdue(firm: BenchFirm) -> str:
    return _invoice_list(firm, "status=overdue")


@register_scenario("invoice_list_number")
def invoice_list_number(firm: BenchFirm) -> str:
    """A search for an invoice number in the middle of the firm's."""
    numbered = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, number__isnull=False
    ).order_by("number")
    middle = numbered[numbered.count() // 2]
    return _invoice_list(firm, f"q={middle.display_number}")


@register_scenario("invoice_page")
def invoice_page(firm: BenchFirm) -> str:
    """A paid invoice in the middle of the firm: its lines, payments, refunds."""
    paid = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.PAID
    ).order_by("pk")
    invoice = paid[paid.count() // 2]
    return reverse(
        "billing:invoice_detail", args=[firm.organization.slug, invoice.uuid]
    )


# The PDF ------------------------------------------------------------------------------


def bench_invoice() -> Invoice:
    """The bench's one-page invoice (a draft), made once and kept."""
    firm = bench_firm_ensure(FIRM)
    organization = firm.organization
    if not organization.logo:
        organization.logo.save("logo", ContentFile(LOGO), save=True)
    with tenant_context(organization):
        invoice = (
            Invoice.objects.filter(organization=organization).order_by("pk").first()
        )
        if invoice is not None:
            return invoice
        client = Client.objects.filter(organization=organization).first()
        if client is None:
            client = client_create(
                organization=organization,
                data={
                    "display_name": "Harper & Quinn Landscaping",
                    "legal_name": "Harper & Quinn Landscaping LLC",
                    "email": "ap@harperquinn.test",
                    "address_line1": "1200 Orchard Way",
                    "city": "Springfield",
                    "region": "IL",
                    "postal_code": "62704",
                },
            )
        rules = billing_settings(organization)
        rules.invoice_footer = "Pay by ACH to First Bench Bank, routing 000000000."
        rules.save(update_fields=["invoice_footer", "updated_at"])
        invoice = invoice_create(organization=organization, client=client, by=None)
        for description, quantity, price in LINES:
            invoice_add_line(
                invoice=invoice,
                by=None,
                description=description,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
            )
        return invoice_update(
            invoice=invoice,
            by=None,
            memo="Thank you for your business.",
            discount_percent=Decimal("5"),
            tax_rate=Decimal("6.25"),
        )


BARE = (
    "<html><body><h1>Invoice</h1><table>"
    + "".join(f"<tr><td>Line {i}</td><td>100.00</td></tr>" for i in range(10))
    + "</table></body></html>"
)


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


@register_measure("invoice_pdf")
def invoice_pdf(*, stdout) -> list[dict]:
    invoice = bench_invoice()
    times, bare = [], []
    with tenant_context(invoice.organization):
        for _ in range(2):
            data = invoice_pdf_render(invoice)
            HTML(string=BARE).write_pdf()
        for _ in range(RUNS):
            started = time.perf_counter()
            data = invoice_pdf_render(invoice)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            HTML(string=BARE).write_pdf()
            bare.append(time.perf_counter() - started)
    pages = len(PdfReader(BytesIO(data)).pages)
    median, bare_median = statistics.median(times), statistics.median(bare)
    stdout.write(
        f"  one-page invoice ({pages} page, {len(data) / 1024:.0f} KiB): median"
        f" {median:.3f} s, p95 {_p95(times):.3f} s, best {min(times):.3f} s over"
        f" {RUNS} renders (target {TARGET_S:g} s); a bare table: median"
        f" {bare_median:.3f} s, so the invoice costs {median / bare_median:.1f}x it"
    )
    records = [
        {"name": "invoice_pdf.median_s", "value": round(median, 3), "unit": "s"},
        {"name": "invoice_pdf.p95_s", "value": round(_p95(times), 3), "unit": "s"},
        {"name": "invoice_pdf.best_s", "value": round(min(times), 3), "unit": "s"},
        {"name": "invoice_pdf.pages", "value": pages, "unit": "pages"},
        {
            "name": "invoice_pdf.bare_median_s",
            "value": round(bare_median, 3),
            "unit": "s",
        },
        {
            "name": "invoice_pdf.bare_ratio",
            "value": round(median / bare_median, 2),
            "unit": "x",
        },
    ]
    if median >= TARGET_S:
        records[0]["missed"] = f"a one-page invoice PDF in under {TARGET_S:g} s"
    return records
