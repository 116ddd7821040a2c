"""Engagement pages: the list across clients, create/edit, the engagement page and
its letter (upload, download, acceptance)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.http import client_ip, get_only
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.engagement_selectors import (
    active_members,
    engagement_notes,
    engagement_overdue,
    engagement_page,
    filters_query,
)
from clients.forms.engagements import (
    EngagementFilterForm,
    EngagementForm,
    EngagementLetterAcceptForm,
    EngagementLetterForm,
)
from clients.models import Client, Engagement, EngagementType, EntityType
from clients.selectors import get_client_or_404, visible_engagements
from clients.services import engagements as services


def _get_engagement(request: OrgRequest, engagement_uuid) -> Engagement:
    return get_object_or_404(
        visible_engagements(request).select_related("client"), uuid=engagement_uuid
    )


def _detail(request: OrgRequest, engagement: Engagement) -> HttpResponse:
    return redirect(
        "clients:engagement_detail",
        org_slug=request.organization.slug,
        engagement_uuid=engagement.uuid,
    )


@require_GET
@require_role(Role.READONLY)
def engagement_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    today = firm_today(request.organization)
    # Query: the firm's active members, for the partner/manager/preparer pickers.
    form = EngagementFilterForm(
        request.GET, members=active_members(request.organization)
    )
    form.is_valid()  # invalid filters are shown and ignored
    filters = form.filters()
    # Query: one page of engagements with their clients and role slots.
    page = engagement_page(
        request, filters, today=today, cursor=request.GET.get("cursor", "")
    )
    slug = request.organization.slug
    engagement_url = row_url(
        "clients:engagement_detail", "engagement_uuid", org_slug=slug
    )
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
    for e in page.rows:
        e.url = engagement_url(e.uuid)
        e.client_url = client_url(e.client.uuid)
    ctx = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": filters_query(form.url_params()),
        "mine_query": filters_query({**form.url_params(), "mine": "1"}),
        "all_query": filters_query(
            {k: v for k, v in form.url_params().items() if k != "mine"}
        ),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "clients/engagement_list.html#results", ctx)
    else:
        response = render(request, "clients/engagement_list.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _edit_page(
    request: OrgRequest, form: EngagementForm, client: Client, engagement=None
) -> HttpResponse:
    ctx = {"form": form, "client": client, "engagement": engagement}
    return render(request, "clients/engagement_form.html", ctx)


@require_role(Role.STAFF)
def engagement_create(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    org = request.organization
    if request.method == "POST":
        form = EngagementForm(request.POST, organization=org)
        if form.is_valid():
            try:
                engagement = services.engagement_create(
                    client=client, data=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Engagement “{engagement.name}” created.")
                return _detail(request, engagement)
    else:
        # The client's own team fills the slots to begin with.
        form = EngagementForm(
            organization=org,
            initial={
                "partner": client.partner_id,
                "manager": client.manager_id,
                "preparer": client.staff_id,
                "tax_year": firm_today(org).year - 1,
                "engagement_type": (
                    EngagementType.INDIVIDUAL_TAX
                    if EntityType(client.entity_type).is_person
                    else EngagementType.BUSINESS_TAX
                ),
            },
        )
    return _edit_page(request, form, client)


@require_role(Role.STAFF)
def engagement_edit(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    engagement = _get_engagement(request, engagement_uuid)
    org = request.organization
    if request.method == "POST":
        form = EngagementForm(request.POST, instance=engagement, organization=org)
        if form.is_valid():
            try:
                services.engagement_update(
                    engagement=engagement, data=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Engagement saved.")
                return _detail(request, engagement)
    else:
        form = EngagementForm(instance=engagement, organization=org)
    return _edit_page(request, form, engagement.client, engagement)


@require_role(Role.READONLY)
def engagement_detail(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    # Query: the engagement with its client, role slots and who recorded acceptance.
    engagement = get_object_or_404(
        visible_engagements(request)
        .select_related(
            "client",
            "partner",
            "manager",
            "preparer",
            "reviewer",
            "letter_accepted_by",
        )
        .annotate(is_overdue=engagement_overdue(firm_today(request.organization))),
        uuid=engagement_uuid,
    )
    if not_allowed := get_only(request):
        return not_allowed
    ctx = {
        "engagement": engagement,
        "client": engagement.client,
        # Query: the notes on this engagement the member may read, with authors.
        "notes": engagement_notes(engagement, viewer_id=request.user.pk),
        "can_write": request.membership.can_write,
        "letter_form": EngagementLetterForm(),
        "accept_form": EngagementLetterAcceptForm(),
    }
    return render(request, "clients/engagement_detail.html", ctx)


@require_role(Role.READONLY)
def engagement_letter(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    """The letter, served through this view as an attachment: the file store has
    no public URL, so every copy taken passes the permission check and is audited."""
    engagement = _get_engagement(request, engagement_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    if not engagement.letter:
        messages.info(request, "No engagement letter has been uploaded yet.")
        return _detail(request, engagement)
    try:
        handle = services.engagement_letter_open(
            engagement=engagement, actor=request.user, request=request
        )
    except FileNotFoundError as exc:
        raise Http404("The letter's file is missing.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=engagement.letter_filename or "engagement-letter.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"  # a client's signed contract
    return response


@require_POST
@require_role(Role.STAFF)
def engagement_letter_upload(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    engagement = _get_engagement(request, engagement_uuid)
    form = EngagementLetterForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["letter"]))
        return _detail(request, engagement)
    try:
        services.engagement_letter_attach(
            engagement=engagement, upload=form.cleaned_data["letter"]
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            f"Engagement letter “{engagement.letter_filename}” uploaded. "
            "Mark it accepted once the client has signed it.",
        )
    return _detail(request, engagement)


@require_POST
@require_role(Role.STAFF)
def engagement_letter_accept(
    request: OrgRequest, org_slug: str, engagement_uuid
) -> HttpResponse:
    engagement = _get_engagement(request, engagement_uuid)
    form = EngagementLetterAcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["accepted_by_name"]))
        return _detail(request, engagement)
    try:
        services.engagement_letter_accept(
            engagement=engagement,
            accepted_by=request.user,
            accepted_by_name=form.cleaned_data["accepted_by_name"],
            ip_address=client_ip(request),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            f"Engagement letter marked accepted, signed by "
            f"{engagement.letter_accepted_by_name}.",
        )
    return _detail(request, engagement)


urlpatterns = [
    path("engagements/", engagement_list, name="engagement_list"),
    path(
        "clients/<uuid:client_uuid>/engagements/new/",
        engagement_create,
        name="engagement_create",
    ),
    path(
        "engagements/<uuid:engagement_uuid>/",
        engagement_detail,
        name="engagement_detail",
    ),
    path(
        "engagements/<uuid:engagement_uuid>/edit/",
        engagement_edit,
        name="engagement_edit",
    ),
    path(
        "engagements/<uuid:engagement_uuid>/letter/",
        engagement_letter,
        name="engagement_letter",
    ),
    path(
        "engagements/<uuid:engagement_uuid>/letter/upload/",
        engagement_letter_upload,
        name="engagement_letter_upload",
    ),
    path(
        "engagements/<uuid:engagement_uuid>/letter/accept/",
        engagement_letter_accept,
        name="engagement_letter_accept",
    ),
]
