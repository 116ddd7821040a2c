"""Pages for a client's statement files, layout and schedule, under
/o/<slug>/reports/ (docs/reports.md, "Outputs").

- build a PDF or XLSX (POST, staff and up): queued, the statement page shows
  it building, then its download link;
- download a ready file (every member who may see the client): the view checks
  first, then serves it (a presigned link on S3), never a public address;
- the client's template, and the firm's default (managers and up);
- the client's schedule (staff and up).

Another firm's object, or a client the member may not see, is a 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.dateparse import parse_date

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from clients.selectors import get_client_or_404, visible_clients
from reports.forms import StatementScheduleForm, StatementTemplateForm
from reports.models import (
    PACKAGE,
    LedgerAccount,
    OutputStatus,
    StatementKind,
    StatementOutput,
    StatementSchedule,
    StatementTemplate,
    month_end,
)
from reports.outputs import (
    statement_output_request,
    statement_output_response,
    statement_schedule_save,
    statement_template_save,
)

SCHEDULED_ROWS = 12
STATEMENT_URLS = {  # kind -> the statement page's URL name
    kind: kind for kind in StatementKind.values
}


@require_role(Role.STAFF)
def output_create(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    if request.method != "POST":
        return redirect(
            "reports:ledger_detail",
            org_slug=request.organization.slug,
            client_uuid=client.uuid,
        )
    kind = request.POST.get("kind", "")
    page = STATEMENT_URLS.get(request.POST.get("page", ""), "profit_and_loss")
    try:
        day = parse_date(request.POST.get("end", ""))
    except ValueError:
        day = None
    period = request.POST.get("period", "month")
    compare = request.POST.get("compare", "both")
    try:
        if day is None:
            raise ValidationError("Choose the period's end.")
        output, new = statement_output_request(
            client=client,
            kind=kind,
            period_end=month_end(day),
            period=period,
            compare=compare,
            fmt=request.POST.get("format", ""),
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(
            "reports:ledger_detail",
            org_slug=request.organization.slug,
            client_uuid=client.uuid,
        )
    if new:
        messages.success(
            request,
            f"Building the {output.get_format_display()}: its link appears here "
            "when it is ready.",
        )
    else:
        messages.info(request, "That file is already being built.")
    query = urlencode(
        {"end": output.period_end.isoformat(), "period": period, "compare": compare}
    )
    url = reverse(
        f"reports:{page}",
        kwargs={"org_slug": request.organization.slug, "client_uuid": client.uuid},
    )
    return redirect(f"{url}?{query}")


@require_role(Role.READONLY)
def output_download(
    request: OrgRequest, org_slug: str, statement_output_uuid
) -> HttpResponse:
    # Query: the output, of a client the member may see.
    output = get_object_or_404(
        StatementOutput.objects.filter(
            organization=request.organization, client__in=visible_clients(request)
        ).select_related("client"),
        uuid=statement_output_uuid,
    )
    if output.status == OutputStatus.READY and output.file:
        try:
            return statement_output_response(request, output)
        except FileNotFoundError:
            # A newer file of the same choices replaced it a moment ago
            # (outputs._remove_older), or the store lost it.
            messages.info(
                request, "That file is no longer kept: see its statement's files."
            )
    else:
        # Building or failed: back to its statement, whose panel says which.
        messages.info(request, "That file is not ready: see its statement's files.")
    page = STATEMENT_URLS.get(output.kind, "profit_and_loss")
    url = reverse(
        f"reports:{page}",
        kwargs={
            "org_slug": request.organization.slug,
            "client_uuid": output.client.uuid,
        },
    )
    query = urlencode(
        {
            "end": output.period_end.isoformat(),
            "period": output.period,
            "compare": output.compare,
        }
    )
    return redirect(f"{url}?{query}")


def _template_page(
    request: OrgRequest, client: Client | None, template: StatementTemplate | None
) -> HttpResponse:
    accounts = (
        # Query: the client's chart (one group box an account).
        list(
            LedgerAccount.objects.filter(
                organization=request.organization, client=client
            ).only("id", "number", "name", "account_type")
        )
        if client is not None
        else []
    )
    if request.method == "POST":
        form = StatementTemplateForm(request.POST)
        if form.is_valid():
            ids = {str(a.id) for a in accounts}
            groups = {
                key.removeprefix("group_"): value
                for key, value in request.POST.items()
                if key.startswith("group_") and key.removeprefix("group_") in ids
            }
            try:
                statement_template_save(
                    organization=request.organization,
                    client=client,
                    title=form.cleaned_data["title"],
                    statements=form.cleaned_data["statements"],
                    groups=groups,
                    show_account_numbers=form.cleaned_data["show_account_numbers"],
                    show_zero_rows=form.cleaned_data["show_zero_rows"],
                    branded=form.cleaned_data["branded"],
                    footer=form.cleaned_data["footer"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "The statement layout is saved.")
                return redirect(request.path)
        groups_shown = {
            key.removeprefix("group_"): value
            for key, value in request.POST.items()
            if key.startswith("group_")
        }
    else:
        form = StatementTemplateForm(
            initial=StatementTemplateForm.initial_from(template)
        )
        groups_shown = template.groups if template and template.client_id else {}
    ctx = {
        "client": client,
        "form": form,
        "template": template,
        "uses_default": client is not None
        and (template is None or template.client_id is None),
        "accounts": [(a, groups_shown.get(str(a.id), "")) for a in accounts],
    }
    return render(request, "reports/statement_template.html", ctx)


@require_role(Role.STAFF)
def template_edit(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    # Query: the client, if the member may see it.
    client = get_client_or_404(request, client_uuid)
    # Query: its template, else the firm's default (the form's starting point).
    template = (
        StatementTemplate.objects.filter(organization=request.organization)
        .filter(client=client)
        .first()
    ) or StatementTemplate.objects.filter(
        organization=request.organization, client__isnull=True
    ).first()
    return _template_page(request, client, template)


@require_role(Role.MANAGER)
def default_template_edit(request: OrgRequest, org_slug: str) -> HttpResponse:
    template = StatementTemplate.objects.filter(
        organization=request.organization, client__isnull=True
    ).first()
    return _template_page(request, None, template)


@require_role(Role.STAFF)
def schedule_edit(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    # Query: the client, if the member may see it.
    client = get_client_or_404(request, client_uuid)
    # Query: its schedule, if any.
    schedule = StatementSchedule.objects.filter(
        organization=request.organization, client=client
    ).first()
    initial = (
        {
            "frequency": schedule.frequency,
            "share_to_portal": schedule.share_to_portal,
            "is_active": schedule.is_active,
        }
        if schedule
        else None
    )
    form = StatementScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        statement_schedule_save(
            client=client,
            today=firm_today(request.organization),
            user=request.user,
            **form.cleaned_data,
        )
        messages.success(request, "The schedule is saved.")
        return redirect(request.path)
    ctx = {
        "client": client,
        "form": form,
        "schedule": schedule,
        # Query: the files it built, newest first, with what they were shared as.
        "outputs": list(
            StatementOutput.objects.filter(
                organization=request.organization, schedule=schedule, kind=PACKAGE
            ).select_related("document")[:SCHEDULED_ROWS]
        )
        if schedule
        else [],
    }
    return render(request, "reports/statement_schedule.html", ctx)


urlpatterns = [
    path("statement-template/", default_template_edit, name="default_template_edit"),
    path("clients/<uuid:client_uuid>/outputs/", output_create, name="output_create"),
    path(
        "clients/<uuid:client_uuid>/statement-template/",
        template_edit,
        name="template_edit",
    ),
    path(
        "clients/<uuid:client_uuid>/statement-schedule/",
        schedule_edit,
        name="schedule_edit",
    ),
    path(
        "outputs/<uuid:statement_output_uuid>/",
        output_download,
        name="output_download",
    ),
]
