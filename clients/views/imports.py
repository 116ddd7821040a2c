"""Client pages: CSV import (upload, preview with row errors, all-or-nothing import)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from advisoros.jobs import progress_read
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.forms.imports import ClientImportUploadForm
from clients.models import ClientImport, ImportStatus
from clients.services.imports import (
    COLUMNS,
    MAX_ROWS,
    PREVIEW_ROWS,
    client_import_create,
    client_import_queue,
    import_parse,
    import_template_csv,
)


def _imports(request: OrgRequest):
    """The firm's imports; below manager, only the member's own (they hold tax ids)."""
    qs = ClientImport.objects.filter(organization=request.organization)
    if not request.membership.has_role(Role.MANAGER):
        qs = qs.filter(created_by=request.user)
    return qs


def _get_import(request: OrgRequest, import_uuid) -> ClientImport:
    return get_object_or_404(
        _imports(request).select_related("created_by"), uuid=import_uuid
    )


@require_role(Role.STAFF)
def import_upload(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = ClientImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            client_import = client_import_create(
                organization=request.organization,
                user=request.user,
                filename=form.cleaned_data["file"].name,
                text=form.text,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect(
                "clients:import_preview",
                org_slug=request.organization.slug,
                import_uuid=client_import.uuid,
            )
    ctx = {
        "form": form,
        "columns": COLUMNS,
        "max_rows": MAX_ROWS,
        # Query: the member's latest imports.
        "recent": _imports(request).select_related("created_by").defer("content")[:5],
    }
    return render(request, "clients/import_upload.html", ctx)


@require_GET
@require_role(Role.STAFF)
def import_template(request: OrgRequest, org_slug: str) -> HttpResponse:
    response = HttpResponse(import_template_csv(), content_type="text/csv")
    response["Content-Disposition"] = (
        'attachment; filename="client-import-template.csv"'
    )
    return response


@dataclass
class PreviewRow:
    number: int
    values: dict[str, str]
    tax_id_masked: str = ""
    errors: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


def _masked(tax_id: str) -> str:
    digits = re.sub(r"\D", "", tax_id)
    return f"•••{digits[-4:]}" if digits else ("•••" if tax_id else "")


def _preview(
    client_import: ClientImport,
) -> tuple[list[PreviewRow], list[dict], list[str]]:
    """The first rows with their messages, the errors of the rows after them, and
    the columns the file has that we do not know."""
    by_row: dict[int, list[dict]] = defaultdict(list)
    for message in client_import.errors:
        by_row[message["row"]].append(message)
    rows: list[PreviewRow] = []
    parsed = None
    if client_import.status == ImportStatus.PREVIEWED and client_import.content:
        try:
            parsed = import_parse(client_import.content, limit=PREVIEW_ROWS)
        except ValidationError:
            parsed = None
        for row in parsed.rows if parsed else []:
            found = by_row.get(row.number, [])
            rows.append(
                PreviewRow(
                    number=row.number,
                    values=row.values,
                    tax_id_masked=_masked(row.values.get("tax_id", "")),
                    errors=[m for m in found if m["level"] == "error"],
                    notes=[m for m in found if m["level"] != "error"],
                )
            )
    last = rows[-1].number if rows else 0
    # Errors of rows after the preview, and of the file as a whole (row 0).
    later = [
        m
        for m in client_import.errors
        if m["level"] == "error" and (m["row"] > last or m["row"] == 0)
    ]
    return rows, later, parsed.ignored if parsed else []


@require_role(Role.STAFF)
def import_preview(request: OrgRequest, org_slug: str, import_uuid) -> HttpResponse:
    # Query: the import with who uploaded it. The rows come from its own text.
    client_import = _get_import(request, import_uuid)
    rows, later_errors, ignored = _preview(client_import)
    ctx = {
        "client_import": client_import,
        "rows": rows,
        "later_errors": later_errors[:PREVIEW_ROWS],
        "more_later_errors": max(len(later_errors) - PREVIEW_ROWS, 0),
        "preview_limit": PREVIEW_ROWS,
        "ignored_columns": ignored,
        "links": sum(1 for m in client_import.errors if m["level"] == "info"),
        "can_import": client_import.status == ImportStatus.PREVIEWED
        and client_import.error_count == 0,
        "progress": progress_read(str(client_import.uuid)),
    }
    return render(request, "clients/import_preview.html", ctx)


@require_POST
@require_role(Role.STAFF)
def import_confirm(request: OrgRequest, org_slug: str, import_uuid) -> HttpResponse:
    client_import = _get_import(request, import_uuid)
    result = client_import_queue(
        client_import=client_import, user=request.user, request=request
    )
    if result == "already_imported":
        messages.info(request, "This file was already imported.")
    elif result == "invalid":
        messages.error(
            request,
            "Nothing was imported: some rows have errors. Fix the file and upload it again.",
        )
    return redirect(
        "clients:import_preview",
        org_slug=request.organization.slug,
        import_uuid=client_import.uuid,
    )


@require_role(Role.STAFF)
def import_status(request: OrgRequest, org_slug: str, import_uuid) -> HttpResponse:
    """The progress panel, polled by htmx while the background job runs."""
    client_import = _get_import(request, import_uuid)
    if client_import.status == ImportStatus.PREVIEWED and client_import.error_count:
        # The job found errors meanwhile: show the whole preview again.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(
        request,
        "clients/import_progress.html",
        {
            "client_import": client_import,
            "progress": progress_read(str(client_import.uuid)),
        },
    )


urlpatterns = [
    path("clients/import/", import_upload, name="import_upload"),
    path("clients/import/template.csv", import_template, name="import_template"),
    path("clients/import/<uuid:import_uuid>/", import_preview, name="import_preview"),
    path(
        "clients/import/<uuid:import_uuid>/confirm/",
        import_confirm,
        name="import_confirm",
    ),
    path(
        "clients/import/<uuid:import_uuid>/status/",
        import_status,
        name="import_status",
    ),
]
