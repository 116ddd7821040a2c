"""An issued invoice's actions: record a manual payment, refund one, issue a
credit note, void it, email it again.

Each is a POST from a form on the invoice's page. A form's own errors and the
services' refusals (more than is owed, a refund beyond what was paid) come back
on that page beside the form; a refusal that belongs to no form (voiding a
draft, resending a void invoice) is a message. Card and bank payments are
refunded through Stripe: the Stripe integration draws its own form in the
page's "invoice_payments" panel slot.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_invoices import CreditNoteForm, PaymentForm, RefundForm, VoidForm
from billing.invoice_selectors import visible_invoices
from billing.models import Invoice, Payment
from billing.services.delivery import invoice_resend
from billing.services.invoices import credit_note_create, invoice_void
from billing.services.payments import payment_record, payment_refund
from billing.views.invoices import back_to, get_invoice, invoice_page_response


def _draft_refusal(request: OrgRequest, invoice: Invoice) -> HttpResponse:
    messages.error(request, "Issue the invoice first.")
    return back_to(request, invoice)


@require_POST
@require_role(Role.STAFF)
def invoice_payment_add(
    request: OrgRequest, org_slug: str, invoice_uuid
) -> HttpResponse:
    """Money received by check, wire, cash or otherwise; never more than owed."""
    invoice = get_invoice(request, invoice_uuid)
    if invoice.is_draft:
        return _draft_refusal(request, invoice)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = payment_record(
                invoice=invoice,
                by=request.user,
                amount=data["amount"],
                method=data["method"],
                received_on=data["received_on"],
                reference=data["reference"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Payment of {payment.amount} {payment.currency} recorded; the "
                "client's receipt is on its way.",
            )
            return back_to(request, invoice)
    invoice.refresh_from_db()
    return invoice_page_response(request, invoice, forms={"payment_form": form})


@require_POST
@require_role(Role.STAFF)
def payment_refund_add(
    request: OrgRequest, org_slug: str, payment_uuid
) -> HttpResponse:
    """Give back part or all of a manual payment (never more than it brought)."""
    # Query: the payment with its invoice, of a client the member may see.
    payment = get_object_or_404(
        Payment.objects.filter(
            organization=request.organization, invoice__in=visible_invoices(request)
        ).select_related(
            "invoice__client",
            "invoice__engagement",
            "invoice__credited_invoice",
            "invoice__created_by",
        ),
        uuid=payment_uuid,
    )
    invoice = payment.invoice
    if payment.stripe_payment_intent:
        messages.error(
            request,
            "Card and bank payments are refunded through Stripe, so that the money "
            "really goes back.",
        )
        return back_to(request, invoice)
    form = RefundForm(request.POST, prefix=f"refund-{payment.uuid}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            refund = payment_refund(
                payment=payment,
                by=request.user,
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Refund of {refund.amount} {payment.currency} recorded."
            )
            return back_to(request, invoice)
    return invoice_page_response(
        request, invoice, forms={"refund_forms": {payment.pk: form}}
    )


@require_POST
@require_role(Role.STAFF)
def invoice_credit(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """A credit note for part or all of what is still owed."""
    invoice = get_invoice(request, invoice_uuid)
    if invoice.is_draft:
        return _draft_refusal(request, invoice)
    form = CreditNoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            note = credit_note_create(
                invoice=invoice,
                by=request.user,
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"{note} issued for {note.total} {note.currency}."
            )
            return back_to(request, invoice)
    invoice.refresh_from_db()
    return invoice_page_response(request, invoice, forms={"credit_form": form})


@require_POST
@require_role(Role.STAFF)
def invoice_void_view(request: OrgRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    invoice = get_invoice(request, invoice_uuid)
    if invoice.is_draft:
        messages.error(request, "A draft is deleted, not voided.")
        return back_to(request, invoice)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            invoice_void(
                invoice=invoice, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return back_to(request, invoice)
        messages.success(request, f"{invoice} is void; its time is unbilled again.")
        return back_to(request, invoice)
    return invoice_page_response(request, invoice, forms={"void_form": form})


@require_POST
@require_role(Role.STAFF)
def invoice_resend_view(
    request: OrgRequest, org_slug: str, invoice_uuid
) -> HttpResponse:
    invoice = get_invoice(request, invoice_uuid)
    try:
        invoice_resend(invoice=invoice, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{invoice} is being emailed again.")
    return back_to(request, invoice)


urlpatterns = [
    path(
        "billing/invoices/<uuid:invoice_uuid>/payments/",
        invoice_payment_add,
        name="invoice_payment_add",
    ),
    path(
        "billing/invoices/payments/<uuid:payment_uuid>/refund/",
        payment_refund_add,
        name="payment_refund",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/credit/",
        invoice_credit,
        name="invoice_credit",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/void/",
        invoice_void_view,
        name="invoice_void",
    ),
    path(
        "billing/invoices/<uuid:invoice_uuid>/resend/",
        invoice_resend_view,
        name="invoice_resend",
    ),
]
