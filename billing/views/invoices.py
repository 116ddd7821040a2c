"""Invoice pages: the list, a new draft, an invoice's page (a draft's editor or
an issued invoice with its payments) and its PDF.

The writes live in billing.views.invoice_drafts (a draft's lines, issuing) and
billing.views.invoice_actions (payments, refunds, credit notes, void, resend);
they render the invoice's page again through `invoice_page_response` when a
form needs its errors shown.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from advisoros.forms import add_service_errors, error_text
from advisoros.http import get_only, is_uuid
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_time, firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_invoices import (
    CreditNoteForm,
    InvoiceAddTimeForm,
    InvoiceFilterForm,
    InvoiceLineAddForm,
    InvoiceUpdateForm,
    NewInvoiceForm,
    PaymentForm,
    RefundForm,
    VoidForm,
)
from billing.invoice_selectors import (
    InvoiceFilters,
    display_status,
    invoice_page,
    outstanding,
    unbilled_summary,
    visible_invoices,
)
from billing.models import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PaymentStatus,
    Refund,
)
from billing.pdf import invoice_pdf_response
from billing.selectors import unbilled_time
from billing.services.invoices import invoice_add_time, invoice_create
from clients.models import Client, ClientStatus, Engagement
from clients.selectors import visible_clients
from clients.services.search import clients_matching
from clients.tabs import client_tab_url

UNBILLED_SHOWN = 200  # entries listed on a draft to tick; "add all" takes the rest
CLIENT_MATCHES_SHOWN = 20


def get_invoice(request: OrgRequest, invoice_uuid) -> Invoice:
    """An invoice of the firm whose client the member may see; else a 404."""
    return get_object_or_404(
        visible_invoices(request).select_related(
            "client", "engagement", "credited_invoice", "created_by"
        ),
        uuid=invoice_uuid,
    )


def invoice_url(request: OrgRequest, invoice: Invoice) -> str:
    return reverse(
        "billing:invoice_detail",
        kwargs={"org_slug": request.organization.slug, "invoice_uuid": invoice.uuid},
    )


def back_to(request: OrgRequest, invoice: Invoice) -> HttpResponse:
    return redirect(invoice_url(request, invoice))


# The list ---------------------------------------------------------------------------


def _list_url(request: OrgRequest, query: dict[str, str] | None = None) -> str:
    url = reverse(
        "billing:invoice_list", kwargs={"org_slug": request.organization.slug}
    )
    return f"{url}?{urlencode(query)}" if query else url


@require_GET
@require_role(Role.READONLY)
def invoice_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    today = firm_today(request.organization)
    f = InvoiceFilters.from_query(request.GET)
    # Query: one page of invoices with their clients and engagements (the firm's
    # assigned-only rule and a client-name search are subqueries).
    page = invoice_page(request, f, today=today)
    # Query: what clients owe, and the overdue part, per currency.
    owed = outstanding(request, today=today, client_uuid=f.client)
    # Query (only with ?client=): the client the list is narrowed to.
    client = (
        visible_clients(request)
        .filter(uuid=f.client)
        .only("uuid", "display_name")
        .first()
        if f.client
        else None
    )
    detail_url = row_url(
        "billing:invoice_detail", "invoice_uuid", org_slug=request.organization.slug
    )
    for invoice in page.rows:
        invoice.url = detail_url(invoice.uuid)
        invoice.shown_status = display_status(invoice, today)
    query = f.query()

    def page_url(cursor: str | None) -> str:
        return _list_url(request, {**query, "cursor": cursor}) if cursor else ""

    ctx = {
        "filters": f,
        "filter_form": InvoiceFilterForm(initial=query),
        "page": page,
        "outstanding": owed,
        "client": client,
        "client_url": client_tab_url(request, client, "invoices") if client else "",
        "list_url": _list_url(request),
        "clear_client_url": _list_url(
            request, {k: v for k, v in query.items() if k != "client"}
        ),
        "next_url": page_url(page.next_cursor),
        "prev_url": page_url(page.prev_cursor),
        "can_write": request.membership.can_write,
        "today": today,
    }
    template = "billing/invoice_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, ctx)
    patch_vary_headers(response, ("HX-Request",))
    return response


# A new draft ------------------------------------------------------------------------


def _chosen_client(request: OrgRequest) -> Client | None:
    value = request.POST.get("client") or request.GET.get("client", "")
    if not is_uuid(value):
        return None
    return visible_clients(request).filter(uuid=value).first()


def client_engagements(request: OrgRequest, client: Client | None):
    if client is None:
        return Engagement.objects.none()
    return Engagement.objects.filter(
        organization=request.organization, client=client
    ).order_by("-created_at", "-id")


@require_role(Role.STAFF)
def invoice_new(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Choose the client (a search, or ?client= from the client's page) and an
    engagement; then the draft's own page takes over."""
    # Query: the client chosen, one the member may see.
    client = _chosen_client(request)
    form = NewInvoiceForm(
        request.POST or None, engagements=client_engagements(request, client)
    )
    if request.method == "POST":
        if client is None:
            messages.error(request, "Choose a client for the invoice.")
            return redirect("billing:invoice_new", org_slug=request.organization.slug)
        if request.POST.get("from_time"):
            return _start_from_time(request, client)
        if form.is_valid():
            try:
                invoice = invoice_create(
                    organization=request.organization,
                    client=client,
                    engagement=form.cleaned_data["engagement"],
                    by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Draft invoice for {client} started.")
                return back_to(request, invoice)
    q = request.GET.get("q", "").strip()[:100]
    matches = []
    if q and client is None:
        # Query: clients whose name starts with the words typed (search tokens).
        matches = list(
            clients_matching(
                visible_clients(request).exclude(status=ClientStatus.ARCHIVED), q
            )
            .only("uuid", "display_name", "client_code")
            .order_by("sort_name", "id")[:CLIENT_MATCHES_SHOWN]
        )
    ctx = {"client": client, "form": form, "q": q, "matches": matches}
    return render(request, "billing/invoice_new.html", ctx)


def _start_from_time(request: OrgRequest, client: Client) -> HttpResponse:
    """A new draft for `client` holding all its unbilled time, a line per entry
    or per engagement ("Bill unbilled time" on the client's page). With no
    unbilled time left (a colleague billed it meanwhile) no draft is made."""
    group = bool(request.POST.get("group_by_engagement"))
    try:
        with transaction.atomic():
            invoice = invoice_create(
                organization=request.organization, client=client, by=request.user
            )
            invoice_add_time(
                invoice=invoice, by=request.user, group_by_engagement=group
            )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(client_tab_url(request, client, "invoices"))
    messages.success(
        request, f"Draft invoice for {client} started from its unbilled time."
    )
    return back_to(request, invoice)


# An invoice's page -------------------------------------------------------------------


def _unbilled(request: OrgRequest, invoice: Invoice) -> dict:
    entries_qs = unbilled_time(
        organization_id=request.organization.pk, client_id=invoice.client_id
    )
    # Query: the first unbilled entries, with who recorded them and for what.
    entries = list(
        entries_qs.select_related("user", "engagement").only(
            "uuid",
            "date",
            "minutes",
            "rate",
            "description",
            "user__name",
            "user__email",
            "engagement__name",
        )[: UNBILLED_SHOWN + 1]
    )
    # Query: how much unbilled time there is in all, and its value.
    summary = unbilled_summary(
        organization_id=request.organization.pk, client_id=invoice.client_id
    )
    return {
        "unbilled_entries": entries[:UNBILLED_SHOWN],
        "unbilled_capped": len(entries) > UNBILLED_SHOWN,
        "unbilled": summary,
    }


def _draft_context(request: OrgRequest, invoice: Invoice, forms: dict) -> dict:
    # Query (as the form draws its choices): the client's engagements.
    engagements = client_engagements(request, invoice.client)
    unbilled = _unbilled(request, invoice)
    ctx = {
        **unbilled,
        "update_form": InvoiceUpdateForm(
            initial={
                "memo": invoice.memo,
                "discount_percent": invoice.discount_percent,
                "tax_rate": invoice.tax_rate,
                "due_date": invoice.due_date,
            }
        ),
        "add_line_form": InvoiceLineAddForm(engagements=engagements),
        "add_time_form": InvoiceAddTimeForm(
            entry_uuids=[str(e.uuid) for e in unbilled["unbilled_entries"]]
        ),
    }
    ctx.update(forms)
    return ctx


def _issued_context(request: OrgRequest, invoice: Invoice, forms: dict) -> dict:
    # Query: the payments, newest first, with who recorded them; then (a second
    # query) their refunds.
    payments = list(
        invoice.payments.select_related("recorded_by").prefetch_related(
            Prefetch(
                "refunds",
                queryset=Refund.objects.select_related("created_by").order_by(
                    "created_at"
                ),
            )
        )
    )
    # Query: the credit notes on this invoice.
    credit_notes = list(
        Invoice.objects.filter(
            organization=request.organization, credited_invoice=invoice
        ).order_by("number")
    )
    balance = invoice.balance
    overpaid = -balance if balance < 0 else ZERO
    refund_forms = forms.get("refund_forms", {})
    for payment in payments:
        payment.is_manual = not payment.stripe_payment_intent
        payment.refund_form = None
        if payment.is_manual and payment.refundable > 0:
            # What was overpaid, by default: the usual reason to give money back.
            amount = (
                min(payment.refundable, overpaid) if overpaid else payment.refundable
            )
            payment.refund_form = refund_forms.get(payment.pk) or RefundForm(
                prefix=f"refund-{payment.uuid}", initial={"amount": amount}
            )
    owed = invoice.kind == InvoiceKind.INVOICE and invoice.is_open and balance > 0
    steps = [
        ("Issued", invoice.issued_at, ""),
        ("Emailed", invoice.sent_at, invoice.sent_to and f"to {invoice.sent_to}"),
        ("Viewed by the client", invoice.viewed_at, ""),
        ("Paid", invoice.paid_at, ""),
    ]
    if invoice.voided_at:
        steps.append(("Void", invoice.voided_at, invoice.void_reason))
    ctx = {
        "payments": payments,
        "credit_notes": credit_notes,
        "balance": balance,
        "overpaid": overpaid,
        "owed": owed,
        "steps": steps,
        "can_void": invoice.kind == InvoiceKind.INVOICE
        and invoice.status != InvoiceStatus.VOID
        and invoice.amount_paid == 0
        and invoice.amount_credited == 0,
        "can_resend": invoice.kind == InvoiceKind.INVOICE
        and invoice.status != InvoiceStatus.VOID,
        "has_pending": any(p.status == PaymentStatus.PENDING for p in payments),
        "payment_form": PaymentForm(
            initial={"amount": balance, "received_on": firm_today(request.organization)}
        )
        if owed
        else None,
        "credit_form": CreditNoteForm(initial={"amount": balance}) if owed else None,
        "void_form": VoidForm(),
    }
    ctx.update({k: v for k, v in forms.items() if k != "refund_forms"})
    return ctx


def invoice_page_response(
    request: OrgRequest, invoice: Invoice, *, forms: dict | None = None
) -> HttpResponse:
    """The invoice's page: a draft's editor, or an issued invoice. `forms` puts a
    posted form back on the page with its errors."""
    forms = forms or {}
    # Query: the invoice's lines (with the engagement each one names).
    lines = list(invoice.lines.select_related("engagement").order_by("position", "pk"))
    today = firm_today(request.organization)
    with firm_time(request):
        ctx = {
            "invoice": invoice,
            "client": invoice.client,
            "lines": lines,
            "shown_status": display_status(invoice, today),
            "adjusted": any(line.adjustment for line in lines),
            "can_write": request.membership.can_write,
            "client_url": client_tab_url(request, invoice.client, "invoices"),
            "list_url": _list_url(request),
        }
        if invoice.is_draft:
            ctx.update(_draft_context(request, invoice, forms))
            template = "billing/invoice_draft.html"
        else:
            ctx.update(_issued_context(request, invoice, forms))
            template = "billing/invoice_detail.html"
        return render(request, template, ctx)


@require_role(Role.READONLY)
def invoice_detail(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    # Query: the invoice with its client, engagement and (a credit note's) invoice.
    invoice = get_invoice(request, invoice_uuid)
    if not_allowed := get_only(request):  # after the lookup: 404 comes first
        return not_allowed
    return invoice_page_response(request, invoice)


# No Content-Security-Policy on the PDF: Chromium's viewer draws nothing under
# any (docs/decisions.md, PDF scripts), and this file is our own WeasyPrint
# output, which holds no script.
@csp_override({})
@require_role(Role.READONLY)
def invoice_pdf(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """The PDF, to members who may see the invoice (never a public address): the
    stored file, made again when missing; a draft's preview is drawn fresh."""
    invoice = get_invoice(request, invoice_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    return invoice_pdf_response(
        request, invoice, inline=request.GET.get("download") != "1"
    )


urlpatterns = [
    path("billing/invoices/", invoice_list, name="invoice_list"),
    path("billing/invoices/new/", invoice_new, name="invoice_new"),
    path(
        "billing/invoices/<uuid:invoice_uuid>/", invoice_detail, name="invoice_detail"
    ),
    path("billing/invoices/<uuid:invoice_uuid>/pdf/", invoice_pdf, name="invoice_pdf"),
]
