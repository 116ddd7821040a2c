"""A draft's writes: its terms, unbilled time, fee lines, a line's edit (with a
write-up or write-down), removing lines, deleting the draft, and issuing it.

Every one of them is refused once the invoice is issued (the services lock the
invoice and check); a forged POST to an issued invoice gets that refusal as a
message on the invoice's page, never a change and never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.emails import invoice_recipients
from billing.forms_invoices import (
    InvoiceAddTimeForm,
    InvoiceLineAddForm,
    InvoiceLineForm,
    InvoiceUpdateForm,
)
from billing.invoice_selectors import visible_invoices
from billing.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from billing.selectors import unbilled_time
from billing.services.invoices import (
    invoice_add_line,
    invoice_add_time,
    invoice_delete_draft,
    invoice_issue,
    invoice_line_remove,
    invoice_line_update,
    invoice_update,
)
from billing.views.invoices import (
    back_to,
    client_engagements,
    get_invoice,
    invoice_page_response,
)
from clients.tabs import client_tab_url


def _issued_refusal(request: OrgRequest, invoice: Invoice) -> HttpResponse:
    messages.error(
        request,
        f"{invoice.display_number} is issued and cannot be changed: void it, or "
        "issue a credit note.",
    )
    return back_to(request, invoice)


def _get_line(request: OrgRequest, line_uuid) -> InvoiceLine:
    return get_object_or_404(
        InvoiceLine.objects.filter(
            organization=request.organization,
            invoice__in=visible_invoices(request),
        ).select_related("invoice", "invoice__client", "invoice__engagement"),
        uuid=line_uuid,
    )


@require_POST
@require_role(Role.STAFF)
def invoice_edit(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """The draft's memo, discount, tax rate and due date."""
    invoice = get_invoice(request, invoice_uuid)
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    form = InvoiceUpdateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            invoice_update(
                invoice=invoice,
                by=request.user,
                memo=data["memo"],
                discount_percent=data["discount_percent"],
                tax_rate=data["tax_rate"],
                due_date=data["due_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Invoice terms saved.")
            return back_to(request, invoice)
    return invoice_page_response(request, invoice, forms={"update_form": form})


@require_POST
@require_role(Role.STAFF)
def invoice_time_add(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """The client's unbilled time: the entries ticked, or all of it."""
    invoice = get_invoice(request, invoice_uuid)
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    form = InvoiceAddTimeForm(request.POST, entry_uuids=request.POST.getlist("entries"))
    if form.is_valid():
        data = form.cleaned_data
        entries = None
        if not data["add_all"]:
            # Only the client's own unbilled entries: another client's or firm's
            # uuid in the POST finds nothing.
            entries = list(
                unbilled_time(
                    organization_id=request.organization.pk,
                    client_id=invoice.client_id,
                ).filter(uuid__in=data["entries"])
            )
        try:
            if entries == []:
                raise ValidationError("Those time entries are billed already.")
            lines = invoice_add_time(
                invoice=invoice,
                by=request.user,
                entries=entries,
                group_by_engagement=data["group_by_engagement"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Time added: {len(lines)} line{'' if len(lines) == 1 else 's'}.",
            )
            return back_to(request, invoice)
    return invoice_page_response(request, invoice, forms={"add_time_form": form})


@require_POST
@require_role(Role.STAFF)
def invoice_line_add(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """A fixed fee, retainer or expense line."""
    invoice = get_invoice(request, invoice_uuid)
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    form = InvoiceLineAddForm(
        request.POST, engagements=client_engagements(request, invoice.client)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            invoice_add_line(
                invoice=invoice,
                by=request.user,
                kind=data["kind"],
                description=data["description"],
                quantity=data["quantity"],
                unit_price=data["unit_price"],
                taxable=data["taxable"],
                engagement=data["engagement"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Line added.")
            return back_to(request, invoice)
    return invoice_page_response(request, invoice, forms={"add_line_form": form})


@require_role(Role.STAFF)
def invoice_line_edit(request: OrgRequest, org_slug: str, line_uuid) -> HttpResponse:
    """A draft's line: its words and (for fees) quantity and price; what it bills
    against its standard value, with the reason."""
    # Query: the line with its invoice and client.
    line = _get_line(request, line_uuid)
    invoice = line.invoice
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    initial = {
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount if line.adjustment else None,
        "adjustment_reason": line.adjustment_reason,
        "taxable": line.taxable,
    }
    form = InvoiceLineForm(request.POST or None, initial=initial, line=line)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        is_time = line.kind == LineKind.TIME
        amount = data["amount"]
        if amount is None and is_time:
            amount = line.standard_amount  # back to its entries' value
        try:
            invoice_line_update(
                line=line,
                by=request.user,
                description=data["description"],
                quantity=None if is_time else data["quantity"],
                unit_price=None if is_time else data["unit_price"],
                amount=amount,
                adjustment_reason=data["adjustment_reason"],
                taxable=data["taxable"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Line saved.")
            return back_to(request, invoice)
    ctx = {"line": line, "invoice": invoice, "form": form}
    return render(request, "billing/invoice_line_form.html", ctx)


@require_POST
@require_role(Role.STAFF)
def invoice_line_delete(request: OrgRequest, org_slug: str, line_uuid) -> HttpResponse:
    line = _get_line(request, line_uuid)
    invoice = line.invoice
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    try:
        invoice_line_remove(line=line, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        note = " Its time is unbilled again." if line.kind == LineKind.TIME else ""
        messages.success(request, f"Line removed.{note}")
    return back_to(request, invoice)


@require_POST
@require_role(Role.STAFF)
def invoice_delete(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    invoice = get_invoice(request, invoice_uuid)
    if not invoice.is_draft:
        return _issued_refusal(request, invoice)
    try:
        invoice_delete_draft(invoice=invoice, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return back_to(request, invoice)
    messages.success(request, "Draft deleted; its time is unbilled again.")
    return redirect(client_tab_url(request, invoice.client, "invoices"))


@require_POST
@require_role(Role.STAFF)
def invoice_issue_view(
    request: OrgRequest, org_slug: str, invoice_uuid
) -> HttpResponse:
    """Number the draft and send it. A second click (or a colleague's) finds it
    issued: an information, not an error, and the invoice's page either way."""
    invoice = get_invoice(request, invoice_uuid)
    if not invoice.is_draft:
        messages.info(request, f"{invoice.display_number} is already issued.")
        return back_to(request, invoice)
    try:
        issued = invoice_issue(invoice=invoice, by=request.user)
    except ValidationError as exc:
        invoice.refresh_from_db(fields=["status", "number", "kind"])
        if invoice.status != InvoiceStatus.DRAFT:  # issued meanwhile
            messages.info(request, f"{invoice.display_number} is already issued.")
        else:
            messages.error(request, error_text(exc))
        return back_to(request, invoice)
    # Query: where its email goes (the job sends it once the issue commits).
    if to := invoice_recipients(issued):
        messages.success(
            request, f"{issued} issued; it is being emailed to {', '.join(to)}."
        )
    else:
        messages.warning(
            request,
            f"{issued} issued, but the client has no email address for invoices: "
            "add a billing contact, then resend it.",
        )
    return back_to(request, issued)


urlpatterns = [
    path(
        "billing/invoices/<uuid:invoice_uuid>/edit/", invoice_edit, name="invoice_edit"
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/time/",
        invoice_time_add,
        name="invoice_time_add",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/lines/",
        invoice_line_add,
        name="invoice_line_add",
    ),
    path(
        "billing/invoices/lines/<uuid:line_uuid>/",
        invoice_line_edit,
        name="invoice_line_edit",
    ),
    path(
        "billing/invoices/lines/<uuid:line_uuid>/remove/",
        invoice_line_delete,
        name="invoice_line_remove",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/delete/",
        invoice_delete,
        name="invoice_delete",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/issue/",
        invoice_issue_view,
        name="invoice_issue",
    ),
]
