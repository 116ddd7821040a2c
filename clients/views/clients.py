"""Client pages: the list (search, filters, bulk actions, CSV export), create,
edit, archive and restore."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Greatest
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.csv_safe import csv_safe
from advisoros.forms import add_service_errors, error_text, form_error_text
from advisoros.row_urls import row_url
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from clients.forms.clients import ClientBulkForm, ClientFilterForm, ClientForm
from clients.models import Client, Tag
from clients.rows import client_rows
from clients.selectors import (
    CLIENT_SORTS,
    ClientFilters,
    client_page,
    filter_clients,
    get_client_or_404,
    visible_clients,
)
from clients.services import clients as services
from clients.services.tags import tag_find_or_create

# The URL parameters of the list; everything else in a query string is dropped.
FILTER_PARAMS = ("q", "status", "entity_type", "assigned", "tag", "sort")
SUGGESTIONS = 5
SUGGESTION_MIN_SIMILARITY = 0.3


def _list_query(params: QueryDict, *, cursor: bool = False) -> str:
    """The list's filters as a query string (and the cursor, when asked)."""
    keep = QueryDict(mutable=True)
    for name in (*FILTER_PARAMS, "cursor") if cursor else FILTER_PARAMS:
        value = params.get(name, "")
        if value:
            keep[name] = value
    return keep.urlencode()


def _list_url(request: OrgRequest, query: str) -> str:
    url = reverse("clients:client_list", kwargs={"org_slug": request.organization.slug})
    return f"{url}?{query}" if query else url


def _page_url(request: OrgRequest, filters_query: str, cursor: str | None) -> str:
    if cursor is None:
        return ""
    query = QueryDict(filters_query, mutable=True)
    query["cursor"] = cursor
    return _list_url(request, query.urlencode())


def _active_members(request: OrgRequest) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=request.organization, is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def _suggestions(request: OrgRequest, f: ClientFilters) -> QuerySet[Client]:
    """Clients whose name looks like the search, for "Did you mean".

    Slow path on purpose: similarity() is not leakproof, so under row-level
    security PostgreSQL cannot use a trigram index and scores every client the
    member may see. It runs only when the token search found nothing.
    """
    score = Greatest(
        TrigramSimilarity("display_name", f.q),
        TrigramWordSimilarity(f.q, "display_name"),
    )
    return (
        filter_clients(request, replace(f, q="", cursor=""))
        .annotate(similarity=score)
        .filter(similarity__gte=SUGGESTION_MIN_SIMILARITY)
        .order_by("-similarity", "sort_name", "id")[:SUGGESTIONS]
    )


@require_GET
@require_role(Role.READONLY)
def client_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    f = ClientFilters.from_query(request.GET)
    page = client_page(request, f)
    detail_url = row_url(
        "clients:client_detail", "client_uuid", org_slug=request.organization.slug
    )
    can_edit = request.membership.has_role(Role.STAFF)
    client_rows(page.rows, url=detail_url, can_edit=can_edit)
    members = _active_members(request)
    tags = list(Tag.objects.filter(organization=request.organization))
    filters_query = _list_query(request.GET)
    list_url = _list_url(request, "")
    ctx = {
        "filters": f,
        "page": page,
        "filter_form": ClientFilterForm(
            initial={name: getattr(f, name) for name in FILTER_PARAMS},
            members=members,
            tags=tags,
            list_url=list_url,
        ),
        "bulk_form": ClientBulkForm(
            organization=request.organization, members=members, tags=tags
        ),
        "can_edit": can_edit,
        "list_url": list_url,
        "filters_query": filters_query,
        "here_query": _list_query(request.GET, cursor=True),
        "next_url": _page_url(request, filters_query, page.next_cursor),
        "prev_url": _page_url(request, filters_query, page.prev_cursor),
        "suggestions": [],
        "firm_has_clients": True,
    }
    if not page.rows and not f.cursor:
        ctx["firm_has_clients"] = visible_clients(request).exists()
        if f.q and len(f.q) >= 3 and ctx["firm_has_clients"]:
            ctx["suggestions"] = list(_suggestions(request, f))
    template = "clients/client_list.html"
    # htmx swaps the results only; a history restore wants the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, ctx)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@require_role(Role.STAFF)
def client_bulk(request: OrgRequest, org_slug: str) -> HttpResponse:
    back = _list_url(
        request, _list_query(QueryDict(request.POST.get("next", "")), cursor=True)
    )
    form = ClientBulkForm(
        request.POST,
        organization=request.organization,
        members=_active_members(request),
    )
    if not form.is_valid():
        errors = form_error_text(form)
        messages.error(request, errors)
        return redirect(back)
    data = form.cleaned_data
    # Only what this member may see: another firm's or an unassigned client's
    # uuid in the POST finds nothing.
    clients = list(visible_clients(request).filter(uuid__in=data["clients"]))
    if not clients:
        messages.error(request, "Select at least one client.")
        return redirect(back)
    selected = _count(len(clients), "client")
    try:
        if data["action"] == ClientBulkForm.ASSIGN:
            role, user = data["role"], data["assignee"]
            services.clients_bulk_assign(clients=clients, role=role, user=user)
            who = (user.name or user.email) if user else "nobody"
            messages.success(request, f"{selected}: {role} set to {who}.")
        elif data["action"] == ClientBulkForm.TAG:
            tag = data["tag"] or tag_find_or_create(
                organization=request.organization, name=data["new_tag"]
            )
            added = services.clients_bulk_tag(clients=clients, tag=tag)
            messages.success(
                request, f"Tag “{tag.name}” added to {_count(added, 'client')}."
            )
        else:
            archived = services.clients_bulk_archive(clients=clients)
            messages.success(request, f"{_count(archived, 'client')} archived.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(back)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class _Echo:
    """A file-like object for csv.writer that hands each row back."""

    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = [
    "code",
    "display name",
    "legal name",
    "entity type",
    "status",
    "risk",
    "industry",
    "fiscal year end",
    "email",
    "phone",
    "address",
    "address line 2",
    "city",
    "state / region",
    "postal code",
    "country",
    "partner",
    "manager",
    "staff",
    "tags",
    "tax id last four",
]


def _export_row(c: Client) -> list[str]:
    # Never the full tax id: only its last four digits leave the database page.
    return [
        csv_safe(value)
        for value in (
            c.client_code,
            c.display_name,
            c.legal_name,
            c.get_entity_type_display(),
            c.get_status_display(),
            c.get_risk_level_display(),
            c.industry,
            c.fiscal_year_end,
            c.email,
            c.phone,
            c.address_line1,
            c.address_line2,
            c.city,
            c.region,
            c.postal_code,
            c.country,
            c.partner.email if c.partner else "",
            c.manager.email if c.manager else "",
            c.staff.email if c.staff else "",
            "; ".join(t.name for t in c.tags.all()),
            c.tax_id_last4,
        )
    ]


@require_GET
@require_role(Role.READONLY)
def client_export(request: OrgRequest, org_slug: str) -> StreamingHttpResponse:
    """The filtered list, every page, streamed: a big firm's file never sits in memory."""
    f = ClientFilters.from_query(request.GET)
    keys, descending, _ = CLIENT_SORTS[f.sort]
    qs = (
        filter_clients(request, f)
        .select_related("partner", "manager", "staff")
        .prefetch_related("tags")
        .order_by(*(f"-{k}" if descending else k for k in keys))
        # The encrypted column is never needed here: not even decrypted.
        .defer("tax_id", "custom_fields")
    )
    audit_event_record(
        action=AuditAction.CLIENTS_EXPORTED,
        organizations=[request.organization],
        actor=request.user,
        request=request,
        detail={"filters": {n: getattr(f, n) for n in FILTER_PARAMS if getattr(f, n)}},
    )

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(EXPORT_HEADER)
        # The tenancy middleware re-enters the firm's context while this streams.
        for client in qs.iterator(chunk_size=2000):
            yield writer.writerow(_export_row(client))

    stamp = timezone.localtime(
        timezone.now(), ZoneInfo(request.organization.timezone)
    ).strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="clients-{request.organization.slug}-{stamp}.csv"'
    )
    return response


def _client_form_page(
    request: OrgRequest, form: ClientForm, client: Client | None
) -> HttpResponse:
    return render(request, "clients/client_form.html", {"form": form, "client": client})


@require_role(Role.STAFF)
def client_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = ClientForm(
        request.POST or None,
        instance=Client(organization=request.organization),
        organization=request.organization,
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                organization=request.organization,
                data=form.client_data(),
                tags=form.cleaned_data["tags"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{client.display_name} added.")
            return redirect(
                "clients:client_detail", org_slug=org_slug, client_uuid=client.uuid
            )
    return _client_form_page(request, form, None)


@require_role(Role.STAFF)
def client_edit(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    form = ClientForm(
        request.POST or None, instance=client, organization=request.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                client=client,
                data=form.client_data(),
                tags=form.cleaned_data["tags"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{client.display_name} saved.")
            return redirect(
                "clients:client_detail", org_slug=org_slug, client_uuid=client.uuid
            )
    return _client_form_page(request, form, client)


@require_POST
@require_role(Role.STAFF)
def client_archive(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    if client.is_archived:
        messages.info(request, f"{client.display_name} was already archived.")
    else:
        services.client_archive(client=client)
        messages.success(
            request,
            f"{client.display_name} archived: hidden from the list and search "
            "until restored.",
        )
    return redirect("clients:client_detail", org_slug=org_slug, client_uuid=client.uuid)


@require_POST
@require_role(Role.STAFF)
def client_restore(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    if client.is_archived:
        try:
            services.client_restore(client=client)
        except ValidationError as exc:  # the firm's plan is full
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{client.display_name} restored as active.")
    return redirect("clients:client_detail", org_slug=org_slug, client_uuid=client.uuid)


urlpatterns = [
    path("clients/", client_list, name="client_list"),
    path("clients/new/", client_create, name="client_create"),
    path("clients/bulk/", client_bulk, name="client_bulk"),
    path("clients/export.csv", client_export, name="client_export"),
    path("clients/<uuid:client_uuid>/edit/", client_edit, name="client_edit"),
    path("clients/<uuid:client_uuid>/archive/", client_archive, name="client_archive"),
    path("clients/<uuid:client_uuid>/restore/", client_restore, name="client_restore"),
]
