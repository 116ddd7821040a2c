"""The firm's documents page: search every document the member may see, or list
the newest. The search itself is documents.search.document_search."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from advisoros.row_urls import row_url
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from clients.selectors import visible_clients
from clients.services.search import clients_matching
from documents.forms_search import DocumentSearchForm
from documents.models import Document
from documents.search import CANDIDATES, document_search

FILTER_PARAMS = ("q", "client", "category", "tax_year", "ocr_status")
CLIENT_SUGGESTIONS = 8


def _search_url(request: OrgRequest, query: str = "") -> str:
    url = reverse("documents:search", kwargs={"org_slug": request.organization.slug})
    return f"{url}?{query}" if query else url


def _query(params: QueryDict, **changes: str) -> str:
    """The page's filters as a query string, with `changes` applied ("" drops)."""
    keep = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        value = changes.get(name, params.get(name, ""))
        if value:
            keep[name] = value
    return keep.urlencode()


def _page_url(request: OrgRequest, filters_query: str, cursor: str | None) -> str:
    if cursor is None:
        return ""
    query = QueryDict(filters_query, mutable=True)
    query["cursor"] = cursor
    return _search_url(request, query.urlencode())


def _document_link(request: OrgRequest) -> Callable[[Document], str]:
    """The document's page, or its client's until the document page exists."""
    slug = request.organization.slug
    try:
        to_document = row_url(
            "documents:document_detail", "document_uuid", org_slug=slug
        )
        return lambda d: to_document(d.uuid)
    except NoReverseMatch:
        to_client = row_url("clients:client_detail", "client_uuid", org_slug=slug)
        return lambda d: to_client(d.client.uuid)


def _chosen_client(request: OrgRequest, client_uuid) -> Client | None:
    """The filter's client, only among the clients the member may see."""
    if client_uuid is None:
        return None
    return (
        visible_clients(request)
        .filter(uuid=client_uuid)
        .only("uuid", "display_name")
        .first()
    )


@require_GET
@require_role(Role.READONLY)
def document_search_page(request: OrgRequest, org_slug: str) -> HttpResponse:
    search_url = _search_url(request)
    form = DocumentSearchForm(request.GET, search_url=search_url)
    form.is_valid()  # what does not validate is not applied
    data = form.cleaned_data
    client = _chosen_client(request, data.get("client"))
    page = document_search(
        membership=request.membership,
        query=data.get("q") or "",
        client=client,
        category=data.get("category") or "",
        tax_year=data.get("tax_year"),
        ocr_status=data.get("ocr_status") or "",
        cursor=request.GET.get("cursor") or None,
    )
    link = _document_link(request)
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=org_slug)
    for document in page.rows:
        document.url = link(document)
        document.client_url = client_url(document.client.uuid)
    filters_query = _query(request.GET, client=str(client.uuid) if client else "")
    ctx = {
        "form": form,
        "query": data.get("q") or "",
        "client": client,
        "page": page,
        "search_url": search_url,
        "first_url": _search_url(request, filters_query),
        "next_url": _page_url(request, filters_query, page.next_cursor),
        "prev_url": _page_url(request, filters_query, page.prev_cursor),
        "without_client_url": _search_url(request, _query(request.GET, client="")),
        "filtered": bool(filters_query),
        "candidates": CANDIDATES,
        "firm_has_documents": True,
        "clients_url": reverse(
            "documents:search_clients", kwargs={"org_slug": org_slug}
        ),
    }
    if not page.rows and not filters_query:
        # An empty firm (for this member): say so rather than "nothing matches".
        ctx["firm_has_documents"] = False
    template = "documents/search.html"
    # htmx swaps the results only; a history restore wants the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, ctx)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@require_role(Role.READONLY)
def document_search_clients(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The client picker's choices: clients the member may see, by name."""
    words = (request.GET.get("client_q") or "").strip()[:100]
    clients = []
    if words:
        clients = list(
            clients_matching(visible_clients(request), words)
            .only("uuid", "display_name", "client_code")
            .order_by("sort_name", "id")[:CLIENT_SUGGESTIONS]
        )
    for client in clients:
        client.filter_url = _search_url(
            request, _query(request.GET, client=str(client.uuid))
        )
    return render(
        request,
        "documents/search_clients.html",
        {"clients": clients, "words": words},
    )


urlpatterns = [
    path("documents/", document_search_page, name="search"),
    path("documents/clients/", document_search_clients, name="search_clients"),
]
