"""A client's invoices in the portal: the list, one invoice, paying it, its PDF.

A contact sees the issued invoices (never drafts, voided ones or credit notes on
their own) of the clients whose grant shows invoices
(portal.selectors.client_invoices), and pays those whose grant lets them pay,
through the firm's own Stripe Checkout (integrations.stripe.checkout). Anything
else answers 404; a contact who may see but not pay is told so.

Opening an invoice marks it viewed (billing's invoice_mark_viewed, the first
time only). Coming back from Checkout the page says how the payment stands:
paid, on its way (a bank debit clears in a few days), or cancelled.
"""

from __future__ import annotations

import logging
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.views.decorators.http import require_POST

from advisoros.forms import error_text
from advisoros.http import get_only
from advisoros.pagination import keyset_page
from billing.models import Invoice, Payment, PaymentStatus
from billing.pdf import invoice_pdf_for_client
from billing.services.invoices import invoice_mark_viewed
from integrations.stripe.checkout import amount_due_online, checkout_start
from integrations.stripe.client import checkout_origin
from integrations.stripe.services import stripe_account_of
from portal.activity import portal_activity_record
from portal.decorators import portal_login_required
from portal.models import Activity, Capability
from portal.selectors import LISTED_INVOICE_FIELDS, client_invoices
from portal.session import PortalSession

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


def _get_invoice(portal: PortalSession, invoice_uuid) -> Invoice:
    invoice = get_object_or_404(client_invoices(portal), uuid=invoice_uuid)
    invoice.client = portal.grants[invoice.client_id].client
    return invoice


def _firm_time(portal: PortalSession):
    return timezone.override(zoneinfo.ZoneInfo(portal.organization.timezone))


@portal_login_required
def invoice_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    portal = request.portal
    if not_allowed := get_only(request):
        return not_allowed
    # Query: one page of invoices (their clients come from the grants).
    page = keyset_page(
        client_invoices(portal).only(*LISTED_INVOICE_FIELDS),
        keys=("issue_date", "id"),
        descending=True,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    portal.with_clients(page.rows)
    ctx = {
        "portal": portal,
        "portal_section": "invoices",
        "page": page,
        "sees_invoices": portal.sees_invoices,
        "show_client": len(portal.clients(Capability.VIEW_INVOICES)) > 1,
    }
    with _firm_time(portal):
        return render(request, "portal/invoices.html", ctx)


@portal_login_required
def invoice_detail(request: HttpRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    portal = request.portal
    # Query: the invoice, of a client this contact sees invoices of.
    invoice = _get_invoice(portal, invoice_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    client = invoice.client
    if invoice.viewed_at is None:
        invoice = invoice_mark_viewed(invoice=invoice)  # the first view only
        invoice.client = client
    # Queries: the portal's activity row and the audit event (and its chain).
    _record(request, portal, invoice, Activity.INVOICE_VIEWED, "Viewed")
    may_pay = portal.grant_for(invoice.client_id, Capability.PAY) is not None
    # Query: the firm's Stripe account (online payment on or off).
    account = stripe_account_of(portal.organization) if may_pay else None
    online = bool(
        account and account.is_ready and account.methods_for(invoice.currency)
    )
    # Query: what is owed less the bank debits in flight.
    due_now = amount_due_online(invoice) if invoice.is_open else None
    # Query: its payments.
    payments = list(
        Payment.objects.filter(
            organization=portal.organization, invoice=invoice
        ).order_by("created_at", "pk")
    )
    ctx = {
        "portal": portal,
        "portal_section": "invoices",
        "invoice": invoice,
        # Query: its lines.
        "lines": list(invoice.lines.all()),
        "payments": payments,
        "processing": any(p.status == PaymentStatus.PENDING for p in payments),
        "may_pay": may_pay,
        "online": online,
        "online_methods": account.methods_for(invoice.currency) if online else [],
        "due_now": due_now,
        "pay_now": online and invoice.is_open and due_now and due_now > 0,
        "returned": request.GET.get("checkout", ""),
        "show_client": len(portal.clients(Capability.VIEW_INVOICES)) > 1,
    }
    with _firm_time(portal):
        response = render(request, "portal/invoice_detail.html", ctx)
    # The Pay button's form is answered with a redirect to Stripe's Checkout.
    response._csp_config = {
        **settings.SECURE_CSP,
        "form-action": [CSP.SELF, checkout_origin()],
    }
    return response


@portal_login_required
@require_POST
def invoice_pay(request: HttpRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    portal = request.portal
    invoice = _get_invoice(portal, invoice_uuid)
    if portal.grant_for(invoice.client_id, Capability.PAY) is None:
        raise PermissionDenied(
            f"Your access does not include paying invoices. Ask "
            f"{portal.organization.name} if you need it."
        )
    back = reverse(
        "portal:invoice_detail",
        kwargs={"org_slug": portal.organization.slug, "invoice_uuid": invoice.uuid},
    )
    try:
        session = checkout_start(
            invoice=invoice,
            contact=portal.contact,
            return_url=request.build_absolute_uri(back),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    return redirect(session.url)


@portal_login_required
def invoice_pdf(request: HttpRequest, org_slug: str, invoice_uuid) -> HttpResponse:
    """The issued invoice's PDF: the stored file, or drawn (and stored) again
    when it is missing, so a lost file never leaves the client without it."""
    portal = request.portal
    invoice = _get_invoice(portal, invoice_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    response = invoice_pdf_for_client(request, invoice)
    _record(request, portal, invoice, Activity.INVOICE_DOWNLOADED, "Opened the PDF of")
    return response


def _record(
    request: HttpRequest,
    portal: PortalSession,
    invoice: Invoice,
    action: Activity,
    verb: str,
) -> None:
    portal_activity_record(
        organization_id=portal.organization.pk,
        action=action,
        request=request,
        contact=portal.contact,
        client=invoice.client,
        summary=f"{verb} invoice {invoice.display_number}",
        detail={"invoice": str(invoice.uuid), "total": str(invoice.total)},
    )
