"""Recurring schedules: the list, a new schedule with its coming periods, pause/resume.

Everyone sees the schedules of the clients they see; managers and above create,
pause and resume them (a schedule makes work for the whole firm).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors
from advisoros.pagination import keyset_page
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.selectors import visible_clients
from workflows.forms_schedules import ScheduleForm
from workflows.models import RecurringSchedule, WorkflowExecution, WorkflowTemplate
from workflows.selectors import start_choices
from workflows.services import recurrence

PAGE_SIZE = 25
PREVIEW_PERIODS = 6


def _visible_schedules(request: OrgRequest):
    return RecurringSchedule.objects.filter(
        organization=request.organization,
        client__in=visible_clients(request).values("pk"),
    )


def _get_schedule(request: OrgRequest, schedule_uuid) -> RecurringSchedule:
    return get_object_or_404(_visible_schedules(request), uuid=schedule_uuid)


def _with_last_period(qs):
    last = WorkflowExecution.objects.filter(
        organization=OuterRef("organization"), recurring_schedule=OuterRef("pk")
    ).order_by("-period_start")
    return qs.annotate(last_period_start=Subquery(last.values("period_start")[:1]))


def _coming(schedule: RecurringSchedule, count: int, today) -> list[dict]:
    """The next periods not made yet, each with its name and dates, and whether the
    job will skip it (already past its due date)."""
    coming = []
    for period in recurrence.next_periods(
        schedule, last_period_start=schedule.last_period_start, count=count
    ):
        due_date = recurrence.period_due_date(schedule, period)
        coming.append(
            {
                "period": period,
                "name": recurrence.execution_name(schedule.template, period),
                "creation_date": recurrence.period_creation_date(schedule, period),
                "due_date": due_date,
                "skipped": due_date < today,
            }
        )
    return coming


@require_role(Role.READONLY)
def schedule_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: one page of schedules with their client, template and engagement,
    # and each one's latest period made (an index probe per row).
    page = keyset_page(
        _with_last_period(_visible_schedules(request)).select_related(
            "client", "template", "engagement"
        ),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    today = firm_today(request.organization)
    for schedule in page.rows:
        coming = [c for c in _coming(schedule, 24, today) if not c["skipped"]]
        schedule.next = coming[0] if coming else None
    ctx = {
        "page": page,
        "can_manage": request.membership.has_role(Role.MANAGER),
        "today": today,
    }
    return render(request, "workflows/schedule_list.html", ctx)


@require_role(Role.MANAGER)
def schedule_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    today = firm_today(request.organization)
    source = request.POST if request.method == "POST" else request.GET
    choices = start_choices(request, source.get("client", ""), source.get("find", ""))
    if request.method == "POST":
        form = ScheduleForm(request.POST, today=today, **choices)
        if form.is_valid():
            data = form.cleaned_data
            client = get_object_or_404(visible_clients(request), uuid=data["client"])
            try:
                schedule = recurrence.recurring_schedule_create(
                    organization=request.organization,
                    client=client,
                    engagement=data["engagement"],
                    template=data["template"],
                    frequency=data["frequency"],
                    rrule_text=data["rrule"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    create_days_ahead=data["create_days_ahead"],
                    due_days_after_period=data["due_days_after_period"],
                    by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"“{schedule.template.name}” now recurs for "
                    f"{client.display_name}. Workflows of periods already due are "
                    "being created.",
                )
                return redirect("workflows:schedule_list", org_slug=org_slug)
    else:
        initial = {"starts_on": today.replace(day=1)}
        initial.update(
            {
                name: request.GET[name]
                for name in ScheduleForm.base_fields
                if request.GET.get(name)
            }
        )
        form = ScheduleForm(initial=initial, today=today, **choices)
    ctx = {"form": form, "has_templates": bool(choices["templates"])}
    template = "workflows/schedule_form.html"
    if request.htmx and request.method == "GET":
        template += "#schedule_form"  # the client changed: its engagements
    return render(request, template, ctx)


@require_role(Role.MANAGER)
@require_GET
def schedule_preview(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The coming periods of the schedule being written (htmx, from the form)."""
    params = request.GET
    starts_on = parse_date(params.get("starts_on", "") or "") if params else None
    today = firm_today(request.organization)
    ctx: dict = {"periods": [], "error": "", "today": today}
    frequency = params.get("frequency", "")
    template = WorkflowTemplate(name=_template_name(request, params.get("template")))
    if starts_on is None or frequency not in RecurringSchedule.Frequency.values:
        ctx["error"] = "Choose how often and the first period's start to see them."
    else:
        schedule = RecurringSchedule(
            frequency=frequency,
            rrule=params.get("rrule", ""),
            starts_on=starts_on,
            ends_on=parse_date(params.get("ends_on", "") or ""),
            create_days_ahead=_days(params.get("create_days_ahead"), 14),
            due_days_after_period=_days(params.get("due_days_after_period"), 15),
            template=template,
        )
        schedule.last_period_start = None
        if frequency == RecurringSchedule.Frequency.RRULE:
            try:
                recurrence.recurrence_rule_parse(schedule.rrule, starts_on=starts_on)
            except ValidationError as exc:
                ctx["error"] = exc.messages[0]
        if not ctx["error"]:
            ctx["periods"] = _coming(schedule, PREVIEW_PERIODS, today)
    return render(request, "workflows/schedule_preview.html", ctx)


def _template_name(request: OrgRequest, key: str | None) -> str:
    if not key:
        return "Workflow"
    try:
        # Query: the chosen template's name (the firm's only).
        name = (
            WorkflowTemplate.objects.filter(organization=request.organization, uuid=key)
            .values_list("name", flat=True)
            .first()
        )
    except ValidationError:  # not a uuid
        name = None
    return name or "Workflow"


def _days(value: str | None, default: int) -> int:
    try:
        return min(max(int(value or default), 0), 366)
    except ValueError:
        return default


@require_POST
@require_role(Role.MANAGER)
def schedule_active(request: OrgRequest, org_slug: str, schedule_uuid) -> HttpResponse:
    schedule = _get_schedule(request, schedule_uuid)
    active = request.POST.get("active", "0") == "1"
    recurrence.recurring_schedule_set_active(schedule=schedule, active=active)
    messages.success(
        request,
        "Schedule resumed: it makes its coming periods again."
        if active
        else "Schedule paused: no new workflows until it is resumed.",
    )
    return redirect("workflows:schedule_list", org_slug=org_slug)


urlpatterns = [
    path("workflows/schedules/", schedule_list, name="schedule_list"),
    path("workflows/schedules/new/", schedule_create, name="schedule_create"),
    path("workflows/schedules/preview/", schedule_preview, name="schedule_preview"),
    path(
        "workflows/schedules/<uuid:schedule_uuid>/active/",
        schedule_active,
        name="schedule_active",
    ),
]
