"""Retention pages for owners and admins: documents past retention, the purge with
its typed confirmation, the tombstones of purged documents (for auditors), legal
hold, and the firm's document settings."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import error_text, form_error_text
from advisoros.http import get_only
from advisoros.pagination import keyset_page
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from documents.forms_requests import (
    PURGE_WORD,
    DocumentSettingsForm,
    LegalHoldForm,
    PurgeConfirmForm,
)
from documents.models import Document, DocumentTombstone
from documents.selectors import visible_documents
from documents.services.retention import (
    MAX_PURGE,
    document_legal_hold_set,
    document_purge,
    document_settings_update,
)
from documents.services.settings import document_settings_for
from documents.views.requests import document_url_maker

PAGE_SIZE = 50
LIST_COLUMNS = (
    "uuid",
    "organization_id",
    "created_at",
    "title",
    "original_filename",
    "category",
    "tax_year",
    "version",
    "size",
    "retention_until",
    "legal_hold",
    "legal_hold_reason",
    "archived_at",
    "client__uuid",
    "client__display_name",
    "client__client_code",
)
# tab -> (filter, keyset keys, descending)
TABS = {
    "due": ("Past retention", ("retention_until", "id"), False),
    "held": ("On legal hold", ("created_at", "id"), True),
}


def _latest(request: OrgRequest) -> QuerySet[Document]:
    return visible_documents(request).filter(is_latest_version=True)


def _tab_filter(tab: str, today) -> Q:
    if tab == "held":
        return Q(legal_hold=True)
    return Q(retention_until__lt=today, legal_hold=False)


@require_GET
@require_role(Role.ADMIN)
def retention_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Documents past their retention date (archived by the nightly sweep, awaiting
    purge), and those on legal hold."""
    today = firm_today(request.organization)
    tab = request.GET.get("show", "due")
    if tab not in TABS:
        tab = "due"
    _, keys, descending = TABS[tab]
    # Query: one page of the tab's documents with their clients.
    page = keyset_page(
        _latest(request)
        .filter(_tab_filter(tab, today))
        .select_related("client")
        .only(*LIST_COLUMNS),
        keys=keys,
        descending=descending,
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    document_url = document_url_maker(request.organization.slug)
    for document in page.rows:
        document.url = document_url(document.uuid)
    # Query: how many documents each tab holds.
    counts = _latest(request).aggregate(
        due=Count("id", filter=_tab_filter("due", today)),
        held=Count("id", filter=_tab_filter("held", today)),
    )
    ctx = {
        "page": page,
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, (label, _, _) in TABS.items()],
        "today": today,
        "max_purge": MAX_PURGE,
        "here": request.get_full_path(),
    }
    return render(request, "documents/retention_list.html", ctx)


def _chosen(request: OrgRequest, values: list[str]) -> list[Document]:
    wanted = []
    for value in values[:MAX_PURGE]:
        try:
            wanted.append(uuid.UUID(value))
        except ValueError:
            continue
    if not wanted:
        return []
    return list(
        _latest(request)
        .filter(uuid__in=wanted)
        .select_related("client")
        .only(*LIST_COLUMNS)
        .order_by("retention_until", "id")
    )


@require_role(Role.ADMIN)
def purge_confirm(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The chosen documents, and a form that needs the reason and PURGE typed."""
    source = request.POST if request.method == "POST" else request.GET
    documents = _chosen(request, source.getlist("document"))
    if not documents:
        messages.error(request, "Choose the documents to purge.")
        return redirect("documents:retention", org_slug=request.organization.slug)
    form = PurgeConfirmForm(
        request.POST if request.method == "POST" else None, count=len(documents)
    )
    if request.method == "POST" and form.is_valid():
        try:
            tombstones = document_purge(
                documents=documents,
                by=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            count = len(documents)
            messages.success(
                request,
                f"{count} document{'' if count == 1 else 's'} purged "
                f"({len(tombstones)} version{'' if len(tombstones) == 1 else 's'}). "
                "Their tombstones are below.",
            )
            return redirect("documents:tombstone_list", org_slug=org_slug)
    ctx = {
        "documents": documents,
        "form": form,
        "held": [d for d in documents if d.legal_hold],
        "purge_word": PURGE_WORD,
    }
    return render(request, "documents/retention_purge_confirm.html", ctx)


@require_GET
@require_role(Role.ADMIN)
def tombstone_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    """What was purged, by whom, when and why: the record auditors ask for."""
    # Query: one page of tombstones, newest first.
    page = keyset_page(
        DocumentTombstone.objects.filter(organization=request.organization),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    return render(request, "documents/retention_purged.html", {"page": page})


@require_role(Role.ADMIN)
def tombstone_detail(
    request: OrgRequest, org_slug: str, tombstone_uuid
) -> HttpResponse:
    tombstone = get_object_or_404(
        DocumentTombstone.objects.filter(organization=request.organization),
        uuid=tombstone_uuid,
    )
    if not_allowed := get_only(request):
        return not_allowed
    return render(
        request, "documents/retention_tombstone.html", {"tombstone": tombstone}
    )


@require_POST
@require_role(Role.ADMIN)
def document_legal_hold(
    request: OrgRequest, org_slug: str, document_uuid
) -> HttpResponse:
    """Place a document (every version) on legal hold, or release it."""
    document = get_object_or_404(visible_documents(request), uuid=document_uuid)
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        try:
            document_legal_hold_set(
                document=document,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request,
                f"“{document.title}” is on legal hold: it cannot be purged."
                if form.cleaned_data["on"]
                else f"Legal hold on “{document.title}” released.",
            )
    else:
        messages.error(request, form_error_text(form))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not target.startswith(f"/o/{request.organization.slug}/"):
        target = reverse("documents:retention", kwargs={"org_slug": org_slug})
    return redirect(target)


@require_role(Role.ADMIN)
def document_settings(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The firm's document rules: upload limit, OCR review threshold, reminder
    cadence and retention years per category."""
    org = request.organization
    settings = document_settings_for(org)
    form = DocumentSettingsForm(
        request.POST or None,
        instance=settings,
        default_years=org.document_retention_years,
    )
    if request.method == "POST" and form.is_valid():
        before = dict(settings.retention_years_by_category or {})
        overrides = form.retention_overrides()
        document_settings_update(
            settings=form.instance,
            retention_years_by_category=overrides,
            by=request.user,
        )
        message = "Document settings saved."
        if overrides != before:
            message += " Retention dates are being brought in line with the new policy."
        messages.success(request, message)
        return redirect("documents:settings", org_slug=org.slug)
    ctx = {"form": form, "default_years": org.document_retention_years}
    return render(request, "documents/settings.html", ctx)


urlpatterns = [
    path("documents/retention/", retention_list, name="retention"),
    path("documents/retention/purge/", purge_confirm, name="purge_confirm"),
    path("documents/retention/purged/", tombstone_list, name="tombstone_list"),
    path(
        "documents/retention/purged/<uuid:tombstone_uuid>/",
        tombstone_detail,
        name="tombstone_detail",
    ),
    path(
        "documents/<uuid:document_uuid>/legal-hold/",
        document_legal_hold,
        name="document_legal_hold",
    ),
    path("documents/settings/", document_settings, name="settings"),
]
