"""Recurring invoices: the list, a new one from an engagement with its lines, its
page (edit, the invoices it made, pause, resume, end), and the engagement
page's panel.

Everyone sees the recurring invoices of the clients they see; managers and
above set them up and change them (they bill a client automatically, like a
recurring workflow makes work for the firm).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.http import get_only
from advisoros.pagination import keyset_page
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_recurring import (
    RecurringInvoiceForm,
    formset_lines,
    line_formset,
)
from billing.models import Invoice, RecurringInvoice, RecurringInvoiceLine
from billing.services import recurring as service
from clients.models import (
    OPEN_ENGAGEMENT_STATUSES,
    ClientStatus,
    Engagement,
    FeeModel,
)
from clients.selectors import visible_clients, visible_engagements

PAGE_SIZE = 25
CHOOSER_ROWS = 25
RECENT_INVOICES = 12
COMING = 3


def _per_period():
    """What each period bills from its lines, before tax and time: each line
    rounded to the cent as an invoice line is (PostgreSQL's round() is half away
    from zero, the same as half-up for amounts that are never negative)."""
    lines = (
        RecurringInvoiceLine.objects.filter(
            organization=OuterRef("organization"), recurring=OuterRef("pk")
        )
        .order_by()
        .values("recurring")
        .annotate(total=Sum(Round(F("quantity") * F("unit_price"), 2)))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(lines, output_field=money), Value(Decimal("0.00")))


def _visible(request: OrgRequest):
    return RecurringInvoice.objects.filter(
        organization=request.organization,
        client__in=visible_clients(request).values("pk"),
    )


def _get_recurring(request: OrgRequest, recurring_uuid) -> RecurringInvoice:
    return get_object_or_404(
        _visible(request).select_related("client", "engagement"), uuid=recurring_uuid
    )


def _with_state(rows) -> list[RecurringInvoice]:
    for row in rows:
        row.state = service.recurring_state(row)
    return rows


@require_role(Role.READONLY)
def recurring_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    if not_allowed := get_only(request):
        return not_allowed
    # Query: one page of recurring invoices with their client and engagement, and
    # what each period bills (a subquery on the lines' index per row).
    page = keyset_page(
        _visible(request)
        .select_related("client", "engagement")
        .annotate(per_period=_per_period()),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    _with_state(page.rows)
    ctx = {
        "page": page,
        "can_manage": request.membership.has_role(Role.MANAGER),
    }
    return render(request, "billing/recurring_list.html", ctx)


@require_role(Role.MANAGER)
def recurring_choose(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Which engagement to bill: the open engagements of the clients the member
    sees, found by the engagement's or the client's name."""
    if not_allowed := get_only(request):
        return not_allowed
    find = request.GET.get("find", "").strip()[:200]
    engagements = (
        visible_engagements(request)
        .filter(status__in=OPEN_ENGAGEMENT_STATUSES)
        .exclude(client__status=ClientStatus.ARCHIVED)
    )
    if find:
        engagements = engagements.filter(
            Q(name__icontains=find) | Q(client__display_name__icontains=find)
        )
    ctx = {
        "find": find,
        # Query: the first matching engagements with their clients.
        "engagements": list(
            engagements.select_related("client").order_by(
                "client__sort_name", "name", "id"
            )[:CHOOSER_ROWS]
        ),
        "cap": CHOOSER_ROWS,
    }
    return render(request, "billing/recurring_choose.html", ctx)


def _first_date(today):
    """The 1st of next month (today, when today is the 1st)."""
    if today.day == 1:
        return today
    return service.following_date(today.replace(day=1), "monthly")


def _initial_lines(engagement: Engagement) -> list[dict]:
    if engagement.fee_amount is None:
        return []
    return [
        {
            "description": engagement.name,
            "quantity": Decimal("1"),
            "unit_price": engagement.fee_amount,
            "taxable": True,
        }
    ]


def _service_args(form: RecurringInvoiceForm, lines) -> dict:
    data = form.cleaned_data
    return {
        "cadence": data["cadence"],
        "next_date": data["next_date"],
        "end_date": data["end_date"],
        "issue_automatically": data["issue_automatically"],
        "include_unbilled_time": data["include_unbilled_time"],
        "memo": data["memo"],
        "lines": lines,
    }


@require_role(Role.MANAGER)
def recurring_create(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    # Query: the engagement with its client (one the member sees).
    engagement = get_object_or_404(
        visible_engagements(request).select_related("client"), uuid=engagement_uuid
    )
    today = firm_today(request.organization)
    if request.method == "POST":
        form = RecurringInvoiceForm(request.POST)
        formset = line_formset(request.POST, initial=[])
        if form.is_valid() and formset.is_valid():
            try:
                recurring = service.recurring_invoice_create(
                    organization=request.organization,
                    engagement=engagement,
                    by=request.user,
                    today=today,
                    **_service_args(form, formset_lines(formset)),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"{engagement.client.display_name} is now billed "
                    f"{recurring.get_cadence_display().lower()} for "
                    f"{engagement.name}, from "
                    f"{recurring.next_date:%b} {recurring.next_date.day}, "
                    f"{recurring.next_date.year}.",
                )
                return redirect(
                    "billing:recurring_edit",
                    org_slug=org_slug,
                    recurring_uuid=recurring.uuid,
                )
    else:
        form = RecurringInvoiceForm(
            initial={
                "cadence": "monthly",
                "next_date": _first_date(today),
                "issue_automatically": True,
                "include_unbilled_time": engagement.fee_model == FeeModel.HOURLY,
            }
        )
        formset = line_formset(initial=_initial_lines(engagement))
    ctx = {
        "form": form,
        "formset": formset,
        "engagement": engagement,
        "client": engagement.client,
        "recurring": None,
    }
    return render(request, "billing/recurring_form.html", ctx)


@require_role(Role.MANAGER)
def recurring_edit(request: OrgRequest, org_slug: str, recurring_uuid) -> HttpResponse:
    # Query: the recurring invoice with its client and engagement.
    recurring = _get_recurring(request, recurring_uuid)
    today = firm_today(request.organization)
    if request.method == "POST":
        form = RecurringInvoiceForm(request.POST, instance=recurring)
        formset = line_formset(request.POST, initial=[])
        if form.is_valid() and formset.is_valid():
            try:
                service.recurring_invoice_update(
                    recurring=recurring,
                    by=request.user,
                    today=today,
                    **_service_args(form, formset_lines(formset)),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Saved: the coming invoices bill this.")
                return redirect(
                    "billing:recurring_edit",
                    org_slug=org_slug,
                    recurring_uuid=recurring.uuid,
                )
        recurring.refresh_from_db()  # the form wrote into it
    else:
        form = RecurringInvoiceForm(instance=recurring)
        # Query: its lines.
        formset = line_formset(
            initial=[
                {
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "taxable": line.taxable,
                }
                for line in recurring.lines.all()
            ]
        )
    recurring.state = service.recurring_state(recurring)
    ctx = {
        "form": form,
        "formset": formset,
        "engagement": recurring.engagement,
        "client": recurring.client,
        "recurring": recurring,
        "coming": service.coming_dates(recurring, COMING)
        if recurring.state == service.RecurringState.ACTIVE
        else [],
        # Query: the latest invoices it made.
        "invoices": list(
            Invoice.objects.filter(
                organization=request.organization, recurring=recurring
            ).order_by("-created_at", "-id")[:RECENT_INVOICES]
        ),
    }
    return render(request, "billing/recurring_form.html", ctx)


@require_POST
@require_role(Role.MANAGER)
def recurring_active(
    request: OrgRequest, org_slug: str, recurring_uuid
) -> HttpResponse:
    """Pause (active=0) or resume (active=1)."""
    recurring = _get_recurring(request, recurring_uuid)
    try:
        if request.POST.get("active") == "1":
            recurring = service.recurring_invoice_resume(
                recurring=recurring,
                by=request.user,
                today=firm_today(request.organization),
            )
            messages.success(
                request,
                f"Resumed: the next invoice is made on "
                f"{recurring.next_date:%b} {recurring.next_date.day}, "
                f"{recurring.next_date.year}.",
            )
        else:
            service.recurring_invoice_pause(recurring=recurring, by=request.user)
            messages.success(
                request,
                "Paused: no invoice is made until it is resumed, and the periods "
                "that pass meanwhile are not billed.",
            )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(
        "billing:recurring_edit", org_slug=org_slug, recurring_uuid=recurring.uuid
    )


@require_POST
@require_role(Role.MANAGER)
def recurring_end(request: OrgRequest, org_slug: str, recurring_uuid) -> HttpResponse:
    recurring = _get_recurring(request, recurring_uuid)
    service.recurring_invoice_end(recurring=recurring, by=request.user)
    messages.success(
        request, "Ended: no more invoices. The invoices it made are unchanged."
    )
    return redirect(
        "billing:recurring_edit", org_slug=org_slug, recurring_uuid=recurring.uuid
    )


@require_role(Role.READONLY)
def engagement_recurring(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    """The engagement's recurring invoices: the engagement page's panel (htmx
    loads it, so that page pays no query for it), or a page of its own."""
    # Query: the engagement with its client.
    engagement = get_object_or_404(
        visible_engagements(request).select_related("client"), uuid=engagement_uuid
    )
    if not_allowed := get_only(request):
        return not_allowed
    ctx = {
        "engagement": engagement,
        "client": engagement.client,
        # Query: its recurring invoices with what each period bills.
        "recurring": _with_state(
            list(
                RecurringInvoice.objects.filter(
                    organization=request.organization, engagement=engagement
                )
                .annotate(per_period=_per_period())
                .order_by("-created_at", "-id")
            )
        ),
        "can_manage": request.membership.has_role(Role.MANAGER),
    }
    template = "billing/engagement_recurring.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#panel"
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response
