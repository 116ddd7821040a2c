"""Document request pages: the firm-wide "chase the client" list, a client's requests,
create, the request page with its items (attach, accept, reject, edit, remove) and
cancel. Reads for everyone in the firm; every change needs the staff role."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors, error_text, form_error_text
from advisoros.http import get_only
from advisoros.overdue import overdue_q
from advisoros.pagination import keyset_page
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client, Engagement
from clients.selectors import visible_clients
from clients.services.search import clients_matching
from documents.forms_requests import (
    STATUS_ALL,
    STATUS_OVERDUE,
    DocumentRequestForm,
    ItemAttachForm,
    ItemRejectForm,
    RequestFilterForm,
    RequestItemForm,
    RequestItemFormSet,
    item_formset_initial,
)
from documents.models import (
    OWED_STATUSES,
    Document,
    DocumentRequest,
    DocumentRequestItem,
)
from documents.selectors import visible_documents
from documents.services import requests as services
from documents.services.requests import (
    REQUEST_TEMPLATES,
    has_overdue_items,
    request_items_visible_to,
    requests_visible_to,
    with_progress,
)

PAGE_SIZE = 50
BLANK_ROWS = 3

# What a list row shows: whole clients would decrypt each tax id.
LIST_COLUMNS = (
    "uuid",
    "organization_id",
    "created_at",
    "title",
    "status",
    "completed_at",
    "last_reminded_at",
    "client__uuid",
    "client__display_name",
    "client__client_code",
    "engagement__uuid",
    "engagement__name",
)
CLIENT_COLUMNS = ("uuid", "organization_id", "display_name", "client_code")


def _get_client(request: OrgRequest, client_uuid) -> Client:
    """A client the member may see; another firm's or an unassigned one is a 404."""
    return get_object_or_404(
        visible_clients(request).only(*CLIENT_COLUMNS), uuid=client_uuid
    )


def _get_request(request: OrgRequest, request_uuid) -> DocumentRequest:
    return get_object_or_404(
        requests_visible_to(request.membership).select_related("client"),
        uuid=request_uuid,
    )


def _get_item(request: OrgRequest, item_uuid) -> DocumentRequestItem:
    return get_object_or_404(
        request_items_visible_to(request.membership).select_related(
            "request", "request__client"
        ),
        uuid=item_uuid,
    )


def _detail(request: OrgRequest, doc_request: DocumentRequest, item=None):
    url = reverse(
        "documents:request_detail",
        kwargs={
            "org_slug": request.organization.slug,
            "request_uuid": doc_request.uuid,
        },
    )
    return redirect(f"{url}#item-{item.uuid}" if item is not None else url)


def _listed(qs: QuerySet[DocumentRequest], today) -> QuerySet[DocumentRequest]:
    return with_progress(
        qs.select_related("client", "engagement").only(*LIST_COLUMNS), today=today
    )


def document_url_maker(org_slug: str) -> Callable[[object], str]:
    """Links to document pages, one reverse() per page; none while the document
    pages are not installed (they ship in a sibling module)."""
    try:
        return row_url("documents:document_detail", "document_uuid", org_slug=org_slug)
    except NoReverseMatch:
        return lambda value: ""


def _with_links(request: OrgRequest, rows: list) -> list:
    slug = request.organization.slug
    detail_url = row_url("documents:request_detail", "request_uuid", org_slug=slug)
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
    for row in rows:
        row.detail_url = detail_url(row.uuid)
        row.client_url = client_url(row.client.uuid)
    return rows


def _results(request: OrgRequest, template: str, ctx: dict) -> HttpResponse:
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{template}#results", ctx)
    else:
        response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Lists ------------------------------------------------------------------------------


@require_GET
@require_role(Role.READONLY)
def request_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Open requests across the firm, newest first, with each one's progress."""
    today = firm_today(request.organization)
    form = RequestFilterForm(request.GET)
    form.is_valid()  # an unknown status is reported and ignored
    params = form.url_params()
    visible = requests_visible_to(request.membership)
    qs = visible
    status = params["status"]
    if status == STATUS_OVERDUE:
        qs = qs.filter(has_overdue_items(today), status=DocumentRequest.Status.OPEN)
    elif status in DocumentRequest.Status.values:
        qs = qs.filter(status=status)
    elif status != STATUS_ALL:
        qs = qs.filter(status=DocumentRequest.Status.OPEN)
    if params["q"]:
        qs = qs.filter(
            client_id__in=clients_matching(
                visible_clients(request), params["q"]
            ).values("pk")
        )
    # Query: one page of requests with their clients, engagements and item counts.
    page = keyset_page(
        _listed(qs, today),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    # Query: the firm's open requests and how many are overdue, for the heading.
    totals = visible.filter(status=DocumentRequest.Status.OPEN).aggregate(
        open=Count("id", distinct=True),
        overdue=Count(
            "id",
            distinct=True,
            filter=overdue_q(today, OWED_STATUSES, prefix="items__"),
        ),
    )
    ctx = {
        "form": form,
        "page": page,
        "rows": _with_links(request, page.rows),
        "totals": totals,
        "filtered": any(params.values()),
        "query": urlencode({k: v for k, v in params.items() if v}),
        "today": today,
        "show_client": True,
    }
    return _results(request, "documents/request_list.html", ctx)


@require_role(Role.READONLY)
def client_request_list(
    request: OrgRequest, org_slug: str, client_uuid
) -> HttpResponse:
    """One client's requests, every status, newest first."""
    # Query: the client (one the member may see).
    client = _get_client(request, client_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    today = firm_today(request.organization)
    qs = requests_visible_to(request.membership).filter(client=client)
    # Query: one page of the client's requests with their item counts.
    page = keyset_page(
        _listed(qs, today),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    ctx = {
        "client": client,
        "page": page,
        "rows": _with_links(request, page.rows),
        "query": "",
        "today": today,
        "show_client": False,
        "can_write": request.membership.can_write,
        "templates": [(key, name) for key, (name, _) in REQUEST_TEMPLATES.items()],
    }
    return _results(request, "documents/request_client_list.html", ctx)


# Create -----------------------------------------------------------------------------


@require_role(Role.STAFF)
def request_create(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = _get_client(request, client_uuid)
    engagements = Engagement.objects.filter(
        organization=request.organization, client=client
    ).order_by("-created_at")
    template = request.GET.get("template", "")
    if request.method == "POST":
        form = DocumentRequestForm(request.POST, engagements=engagements)
        formset = RequestItemFormSet(request.POST, prefix="items")
        if form.is_valid() and formset.is_valid():
            default_due = form.cleaned_data["due_date"]
            items = [
                {**row, "due_date": row.get("due_date") or default_due}
                for row in (f.cleaned_data for f in formset.forms)
                if (row.get("title") or "").strip()
            ]
            try:
                doc_request = services.document_request_create(
                    client=client,
                    engagement=form.cleaned_data["engagement"],
                    title=form.cleaned_data["title"],
                    message=form.cleaned_data["message"],
                    items=items,
                    created_by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                count = len(items)
                messages.success(
                    request,
                    f"Request “{doc_request.title}” created with {count} "
                    f"item{'' if count == 1 else 's'}.",
                )
                return _detail(request, doc_request)
    else:
        name, _ = REQUEST_TEMPLATES.get(template, ("", []))
        form = DocumentRequestForm(
            engagements=engagements, initial={"title": name} if name else None
        )
        rows = item_formset_initial(template)
        formset = RequestItemFormSet(prefix="items", initial=rows + [{}] * BLANK_ROWS)
    ctx = {
        "client": client,
        "form": form,
        "formset": formset,
        "template": template,
        "templates": [(key, name) for key, (name, _) in REQUEST_TEMPLATES.items()],
    }
    return render(request, "documents/request_form.html", ctx)


# The request page -------------------------------------------------------------------


@require_role(Role.READONLY)
def request_detail(request: OrgRequest, org_slug: str, request_uuid) -> HttpResponse:
    # Query: the request with its client, engagement and author.
    doc_request = get_object_or_404(
        requests_visible_to(request.membership).select_related(
            "client", "engagement", "created_by"
        ),
        uuid=request_uuid,
    )
    if not_allowed := get_only(request):
        return not_allowed
    today = firm_today(request.organization)
    attached = (
        visible_documents(request)
        .only(
            "uuid",
            "organization_id",
            "request_item_id",
            "title",
            "original_filename",
            "version",
            "created_at",
            "scan_status",
        )
        .order_by("created_at", "id")
    )
    # Query: the items with their reviewers; query: the documents attached to
    # them that the member may see (a restricted one stays hidden).
    items = list(
        doc_request.items.select_related("reviewed_by").prefetch_related(
            Prefetch("documents", queryset=attached, to_attr="attached")
        )
    )
    document_url = document_url_maker(request.organization.slug)
    for item in items:
        for document in item.attached:
            document.url = document_url(document.uuid)
        item.is_overdue = item.overdue_on(today)
    can_write = request.membership.can_write
    is_open = doc_request.status == DocumentRequest.Status.OPEN
    attach_choices = []
    if can_write and is_open:
        # Query: the client's documents the member may see, for the attach selects.
        attach_choices = ItemAttachForm(
            documents=_attachable(request, doc_request.client)
        ).choices
    counts = {s: 0 for s in DocumentRequestItem.Status.values}
    for item in items:
        counts[item.status] += 1
    ctx = {
        "doc_request": doc_request,
        "client": doc_request.client,
        "items": items,
        "counts": counts,
        "received": counts["received"] + counts["accepted"],
        "can_write": can_write,
        "is_open": is_open,
        "attach_choices": attach_choices,
        "reject_form": ItemRejectForm(),
        "add_form": RequestItemForm(prefix="new"),
        "today": today,
    }
    return render(request, "documents/request_detail.html", ctx)


def _attachable(request: OrgRequest, client: Client) -> QuerySet[Document]:
    return (
        visible_documents(request)
        .filter(client=client, is_latest_version=True)
        .only("uuid", "organization_id", "title", "original_filename", "tax_year")
        .order_by("-created_at", "-id")
    )


@require_POST
@require_role(Role.STAFF)
def request_cancel(request: OrgRequest, org_slug: str, request_uuid) -> HttpResponse:
    doc_request = _get_request(request, request_uuid)
    try:
        services.document_request_cancel(request=doc_request, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Request “{doc_request.title}” cancelled.")
    return _detail(request, doc_request)


@require_POST
@require_role(Role.STAFF)
def request_item_add(request: OrgRequest, org_slug: str, request_uuid) -> HttpResponse:
    doc_request = _get_request(request, request_uuid)
    form = RequestItemForm(request.POST, prefix="new")
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _detail(request, doc_request)
    try:
        item = services.document_request_item_add(
            request=doc_request, data=form.cleaned_data, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _detail(request, doc_request)
    messages.success(request, f"Item “{item.title}” added.")
    return _detail(request, doc_request, item)


@require_role(Role.STAFF)
def request_item_edit(request: OrgRequest, org_slug: str, item_uuid) -> HttpResponse:
    item = _get_item(request, item_uuid)
    form = RequestItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_request_item_update(
                item=item, data=form.cleaned_data, by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Item saved.")
            return _detail(request, item.request, item)
    ctx = {"item": item, "doc_request": item.request, "form": form}
    return render(request, "documents/request_item_form.html", ctx)


@require_POST
@require_role(Role.STAFF)
def request_item_remove(request: OrgRequest, org_slug: str, item_uuid) -> HttpResponse:
    item = _get_item(request, item_uuid)
    try:
        doc_request = services.document_request_item_remove(item=item, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _detail(request, item.request, item)
    messages.success(request, f"Item “{item.title}” removed.")
    if doc_request.status == DocumentRequest.Status.COMPLETED:
        messages.success(request, "Every item is accepted: the request is complete.")
    return _detail(request, doc_request)


@require_POST
@require_role(Role.STAFF)
def request_item_attach(request: OrgRequest, org_slug: str, item_uuid) -> HttpResponse:
    item = _get_item(request, item_uuid)
    form = ItemAttachForm(
        request.POST, documents=_attachable(request, item.request.client)
    )
    if not form.is_valid():
        messages.error(request, "; ".join(form.errors["document"]))
        return _detail(request, item.request, item)
    document = form.cleaned_data["document"]
    try:
        services.document_request_item_attach(
            item=item, document=document, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            f"“{document.title}” attached to “{item.title}”: accept it once checked.",
        )
    return _detail(request, item.request, item)


@require_POST
@require_role(Role.STAFF)
def request_item_accept(request: OrgRequest, org_slug: str, item_uuid) -> HttpResponse:
    item = _get_item(request, item_uuid)
    try:
        accepted = services.document_request_item_accept(item=item, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _detail(request, item.request, item)
    messages.success(request, f"“{item.title}” accepted.")
    if accepted.request.status == DocumentRequest.Status.COMPLETED:
        messages.success(request, "Every item is accepted: the request is complete.")
    return _detail(request, item.request, item)


@require_POST
@require_role(Role.STAFF)
def request_item_reject(request: OrgRequest, org_slug: str, item_uuid) -> HttpResponse:
    item = _get_item(request, item_uuid)
    form = ItemRejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(form.errors["reason"]))
        return _detail(request, item.request, item)
    try:
        services.document_request_item_reject(
            item=item, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, f"“{item.title}” rejected: the client is asked to send it again."
        )
    return _detail(request, item.request, item)


urlpatterns = [
    path("documents/requests/", request_list, name="request_list"),
    path(
        "clients/<uuid:client_uuid>/requests/",
        client_request_list,
        name="client_request_list",
    ),
    path(
        "clients/<uuid:client_uuid>/requests/new/",
        request_create,
        name="request_create",
    ),
    path(
        "documents/requests/<uuid:request_uuid>/",
        request_detail,
        name="request_detail",
    ),
    path(
        "documents/requests/<uuid:request_uuid>/cancel/",
        request_cancel,
        name="request_cancel",
    ),
    path(
        "documents/requests/<uuid:request_uuid>/items/add/",
        request_item_add,
        name="request_item_add",
    ),
    path(
        "documents/requests/items/<uuid:item_uuid>/edit/",
        request_item_edit,
        name="request_item_edit",
    ),
    path(
        "documents/requests/items/<uuid:item_uuid>/remove/",
        request_item_remove,
        name="request_item_remove",
    ),
    path(
        "documents/requests/items/<uuid:item_uuid>/attach/",
        request_item_attach,
        name="request_item_attach",
    ),
    path(
        "documents/requests/items/<uuid:item_uuid>/accept/",
        request_item_accept,
        name="request_item_accept",
    ),
    path(
        "documents/requests/items/<uuid:item_uuid>/reject/",
        request_item_reject,
        name="request_item_reject",
    ),
]
