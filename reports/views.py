"""Financial reports pages under /o/<slug>/reports/: the clients with ledgers, a
client's ledger (snapshots, accounts, CSV import) and its statements.

Every member may read them (read-only members too); importing needs staff.
A member whom the firm limits to assigned clients sees those clients only
(clients.selectors.visible_clients): another client is a 404, as is another
firm's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.replica import reads_from_replica
from advisoros.tenancy.request import OrgRequest
from clients.selectors import get_client_or_404, visible_clients
from reports.csv_import import (
    COLUMNS,
    PREVIEW_ROWS,
    csv_parse,
    replaces,
    template_csv,
    trial_balance_import_apply,
    trial_balance_import_create,
)
from reports.forms import TrialBalanceUploadForm
from reports.models import (
    PACKAGE,
    ImportStatus,
    LedgerAccount,
    OutputStatus,
    StatementOutput,
    TrialBalance,
    TrialBalanceImport,
    month_end,
)
from reports.rendering import statement_rows_html
from reports.services import trial_balance_delete
from reports.statements import (
    COMPARISONS,
    PERIODS,
    TITLES,
    client_fiscal_start_month,
    ledger_dates,
    statement_build,
    template_for,
)

INDEX_ROWS = 500
OUTPUT_ROWS = 10
SEARCH_ROWS = 20
# URL name -> statement kind, in the tabs' order.
STATEMENTS = {
    "profit_and_loss": "profit_and_loss",
    "balance_sheet": "balance_sheet",
    "cash_flow": "cash_flow",
    "trial_balance": "trial_balance",
}


@require_GET
@require_role(Role.READONLY)
def ledger_index(request: OrgRequest, org_slug: str) -> HttpResponse:
    clients = visible_clients(request)
    q = request.GET.get("q", "").strip()[:100]
    ctx = {
        # Query: the visible clients with snapshots, their count and latest date.
        "ledgers": list(
            TrialBalance.objects.filter(
                organization=request.organization, client__in=clients
            )
            .values("client__uuid", "client__display_name", "client__client_code")
            .annotate(snapshots=Count("id"), latest=Max("period_end"))
            .order_by("client__sort_name", "client__id")[:INDEX_ROWS]
        ),
        "index_rows": INDEX_ROWS,
        "q": q,
        # Query (with a search only): visible clients by name or code.
        "found": list(
            clients.filter(Q(display_name__icontains=q) | Q(client_code__iexact=q))
            .only("uuid", "display_name", "client_code")
            .order_by("sort_name", "id")[:SEARCH_ROWS]
        )
        if q
        else None,
    }
    return render(request, "reports/index.html", ctx)


def _statement_tabs(current: str) -> list[tuple]:
    return [(name, TITLES[kind], name == current) for name, kind in STATEMENTS.items()]


# No require_GET on pages with a uuid: another firm's uuid answers 404 to any
# method (tests/tenancy/test_leak_sweep.py), never a 405 that runs first.
@require_role(Role.READONLY)
def ledger_detail(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    # Query: the client, if the member may see it.
    client = get_client_or_404(request, client_uuid)
    ctx = {
        "client": client,
        # Query: its snapshots, newest first.
        "snapshots": list(
            TrialBalance.objects.filter(
                organization=request.organization, client=client
            ).select_related("recorded_by")
        ),
        # Query: its chart of accounts.
        "accounts": list(
            LedgerAccount.objects.filter(
                organization=request.organization, client=client
            )
        ),
        # Query: its latest imports.
        "imports": list(
            TrialBalanceImport.objects.filter(
                organization=request.organization, client=client
            )
            .select_related("created_by")
            .defer("content")[:5]
        ),
        "tabs": _statement_tabs(""),
        "can_import": request.membership.has_role(Role.STAFF),
    }
    return render(request, "reports/ledger.html", ctx)


@require_role(Role.STAFF)
def import_upload(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    form = TrialBalanceUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = trial_balance_import_create(
                client=client,
                user=request.user,
                period_end=form.cleaned_data["month"],
                filename=form.cleaned_data["file"].name,
                text=form.text,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect(
                "reports:import_preview",
                org_slug=request.organization.slug,
                trial_balance_import_uuid=upload.uuid,
            )
    ctx = {"client": client, "form": form, "columns": COLUMNS}
    return render(request, "reports/import_upload.html", ctx)


@require_GET
@require_role(Role.READONLY)
def import_template(request: OrgRequest, org_slug: str) -> HttpResponse:
    response = HttpResponse(template_csv(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="trial-balance.csv"'
    return response


def _get_import(request: OrgRequest, trial_balance_import_uuid) -> TrialBalanceImport:
    return get_object_or_404(
        TrialBalanceImport.objects.filter(
            organization=request.organization, client__in=visible_clients(request)
        ).select_related("client", "created_by"),
        uuid=trial_balance_import_uuid,
    )


@require_role(Role.STAFF)
def import_preview(
    request: OrgRequest, org_slug: str, trial_balance_import_uuid
) -> HttpResponse:
    # Query: the import with its client and uploader.
    upload = _get_import(request, trial_balance_import_uuid)
    by_row: dict[int, list[dict]] = defaultdict(list)
    for message in upload.errors:
        by_row[message["row"]].append(message)
    rows = []
    if upload.status == ImportStatus.PREVIEWED:
        try:
            parsed = csv_parse(upload.content)[:PREVIEW_ROWS]
        except ValidationError:
            parsed = []
        rows = [
            (
                row,
                [m for m in by_row.get(row.number, []) if m["level"] == "error"],
                [m for m in by_row.get(row.number, []) if m["level"] != "error"],
            )
            for row in parsed
        ]
    last = rows[-1][0].number if rows else 0
    ctx = {
        "upload": upload,
        "client": upload.client,
        "rows": rows,
        "preview_rows": PREVIEW_ROWS,
        # Errors of the file as a whole (row 0) and of rows past the preview.
        "other_errors": [
            m
            for m in upload.errors
            if m["level"] == "error" and (m["row"] == 0 or m["row"] > last)
        ],
        "new_accounts": sum(
            1 for m in upload.errors if m["message"].startswith("A new account")
        ),
        "can_import": upload.status == ImportStatus.PREVIEWED
        and not upload.error_count,
        # Query: whether it replaces a snapshot of the same date.
        "replaces": upload.status == ImportStatus.PREVIEWED and replaces(upload),
    }
    return render(request, "reports/import_preview.html", ctx)


@require_POST
@require_role(Role.STAFF)
def import_confirm(
    request: OrgRequest, org_slug: str, trial_balance_import_uuid
) -> HttpResponse:
    upload = _get_import(request, trial_balance_import_uuid)
    result = trial_balance_import_apply(trial_balance_import=upload, user=request.user)
    if result == "imported":
        messages.success(
            request,
            f"The trial balance as at {upload.period_end:%B} {upload.period_end.day}, "
            f"{upload.period_end.year} is in {upload.client}'s ledger.",
        )
        return redirect(
            "reports:ledger_detail",
            org_slug=request.organization.slug,
            client_uuid=upload.client.uuid,
        )
    if result == "already_imported":
        messages.info(request, "This file was already imported.")
    else:
        messages.error(
            request,
            "Nothing was imported: some rows have errors. Fix the file and upload it again.",
        )
    return redirect(
        "reports:import_preview",
        org_slug=request.organization.slug,
        trial_balance_import_uuid=upload.uuid,
    )


@require_POST
@require_role(Role.MANAGER)
def trial_balance_remove(
    request: OrgRequest, org_slug: str, trial_balance_uuid
) -> HttpResponse:
    trial_balance = get_object_or_404(
        TrialBalance.objects.filter(
            organization=request.organization, client__in=visible_clients(request)
        ).select_related("client"),
        uuid=trial_balance_uuid,
    )
    client = trial_balance.client
    trial_balance_delete(trial_balance=trial_balance)
    messages.success(
        request,
        f"The trial balance as at {trial_balance.period_end:%Y-%m-%d} was removed.",
    )
    return redirect(
        "reports:ledger_detail",
        org_slug=request.organization.slug,
        client_uuid=client.uuid,
    )


def _end(
    request: OrgRequest, snapshots: dict[date, TrialBalance]
) -> tuple[date | None, str]:
    """The chosen month-end (default: the latest snapshot), and an error to show."""
    text = request.GET.get("end", "")
    if text:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is not None:
            return month_end(day), ""
        error = "That date could not be read."
    else:
        error = ""
    return (next(iter(snapshots), None), error)


def statement(
    request: OrgRequest, org_slug: str, client_uuid, kind: str
) -> HttpResponse:
    # Query: the client, if the member may see it.
    client = get_client_or_404(request, client_uuid)
    # Query: its snapshots' dates (the picker, and which dates exist).
    snapshots = ledger_dates(client)
    end, error = _end(request, snapshots)
    period = request.GET.get("period", "month")
    period = period if period in PERIODS else "month"
    compare = request.GET.get("compare", "both")
    compare = compare if compare in COMPARISONS else "both"
    outputs = (
        # Query: this statement's files for these choices (and the package's).
        list(
            StatementOutput.objects.filter(
                organization=request.organization,
                client=client,
                kind__in=[kind, PACKAGE],
                period_end=end,
                period=period,
                compare=compare,
            ).select_related("created_by", "schedule")[:OUTPUT_ROWS]
        )
        if end is not None
        else []
    )
    outputs_ctx = {
        "outputs": outputs,
        "building": any(o.status == OutputStatus.PENDING for o in outputs),
        "can_build": request.membership.has_role(Role.STAFF),
        "build_choices": [(kind, TITLES[kind]), (PACKAGE, "The package")],
        "end": end,
        "period": period,
        "compare": compare,
    }
    query = (
        urlencode({"end": end.isoformat(), "period": period, "compare": compare})
        if end
        else ""
    )
    if request.GET.get("outputs"):  # the files' panel alone (htmx polls it)
        return render(
            request,
            "reports/statement.html#outputs",
            {"client": client, "kind": kind, "query": query, **outputs_ctx},
        )
    start_month = client_fiscal_start_month(client)
    # Query: the client's template, else the firm's default.
    template = template_for(client)
    # Queries: every needed snapshot's lines, and their accounts (none without
    # data).
    report = (
        statement_build(
            kind=kind,
            snapshots=snapshots,
            end=end,
            period=period,
            compare=compare,
            start_month=start_month,
            template=template,
        )
        if end is not None
        else None
    )
    ctx = {
        **outputs_ctx,
        "template": template,
        "client": client,
        "kind": kind,
        "title": TITLES[kind],
        "tabs": _statement_tabs(kind),
        "report": report,
        "end": end,
        "end_error": error,
        "dates": list(snapshots),
        "period": period,
        "periods": PERIODS.items(),
        "compare": compare,
        "comparisons": COMPARISONS.items(),
        "as_at": kind in ("balance_sheet", "trial_balance"),
        "fiscal_start": date(2000, start_month, 1),
        "checks": list(zip(report.checks, report.columns, strict=False))
        if report
        else [],
        "rows_html": statement_rows_html(report) if report else "",
        "query": query,
    }
    return render(request, "reports/statement.html", ctx)


def _statement_view(kind: str):
    @reads_from_replica
    @require_role(Role.READONLY)
    def view(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
        return statement(request, org_slug, client_uuid, kind)

    view.__name__ = kind
    return view


urlpatterns = [
    path("", ledger_index, name="ledger_index"),
    path("template.csv", import_template, name="import_template"),
    path("clients/<uuid:client_uuid>/", ledger_detail, name="ledger_detail"),
    path("clients/<uuid:client_uuid>/import/", import_upload, name="import_upload"),
    path(
        "imports/<uuid:trial_balance_import_uuid>/",
        import_preview,
        name="import_preview",
    ),
    path(
        "imports/<uuid:trial_balance_import_uuid>/confirm/",
        import_confirm,
        name="import_confirm",
    ),
    path(
        "trial-balances/<uuid:trial_balance_uuid>/remove/",
        trial_balance_remove,
        name="trial_balance_remove",
    ),
    path(
        "clients/<uuid:client_uuid>/profit-and-loss/",
        _statement_view("profit_and_loss"),
        name="profit_and_loss",
    ),
    path(
        "clients/<uuid:client_uuid>/balance-sheet/",
        _statement_view("balance_sheet"),
        name="balance_sheet",
    ),
    path(
        "clients/<uuid:client_uuid>/cash-flow/",
        _statement_view("cash_flow"),
        name="cash_flow",
    ),
    path(
        "clients/<uuid:client_uuid>/trial-balance/",
        _statement_view("trial_balance"),
        name="trial_balance",
    ),
]
