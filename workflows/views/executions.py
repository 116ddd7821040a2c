"""Running work: the workflow list, starting a workflow, the workflow page and the
task page (status moves, assignment, checklist, comments, time).

Every read goes through `workflows.selectors` (the firm, and the "staff see only
their clients" rule); every write is a POST for staff and above that calls a
service, whose ValidationError comes back as a flash message or a form error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.http import get_only
from advisoros.overdue import overdue_q
from advisoros.pagination import keyset_page
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client, choice_label
from clients.selectors import visible_clients
from workflows.forms import (
    STATUS_OPEN,
    STATUS_OVERDUE,
    AdhocTaskForm,
    AssignForm,
    CommentForm,
    ExecutionFilterForm,
    ExecutionStartForm,
    MinutesForm,
    MoveForm,
    working_members,
)
from workflows.models import (
    CLOSED_STATUSES,
    OPEN_EXECUTION_STATUSES,
    ExecutionStatus,
    Task,
    TaskComment,
    TaskDependency,
    TaskStatus,
    WorkflowExecution,
    WorkflowTemplate,
)
from workflows.selectors import start_choices, visible_executions, visible_tasks
from workflows.services import executions as execution_services
from workflows.services import tasks as task_services

PAGE_SIZE = 50


def _get_execution(request: OrgRequest, execution_uuid) -> WorkflowExecution:
    return get_object_or_404(
        visible_executions(request).select_related("client", "template", "engagement"),
        uuid=execution_uuid,
    )


def _get_task(request: OrgRequest, task_uuid) -> Task:
    return get_object_or_404(
        visible_tasks(request).select_related(
            "execution__engagement",
            "client",
            "assignee",
            "completed_by",
            "approved_by",
        ),
        uuid=task_uuid,
    )


def _execution_page(request: OrgRequest, execution: WorkflowExecution) -> HttpResponse:
    return redirect(
        "workflows:execution_detail",
        org_slug=request.organization.slug,
        execution_uuid=execution.uuid,
    )


def _task_page(request: OrgRequest, task: Task) -> HttpResponse:
    return redirect(
        "workflows:task_detail", org_slug=request.organization.slug, task_uuid=task.uuid
    )


def _flash_errors(request: OrgRequest, form: Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# The workflow list ------------------------------------------------------------------------


def _filter_options(request: OrgRequest) -> dict:
    return {
        # Query: the firm's templates for the template filter.
        "templates": [
            (str(uuid), name)
            for uuid, name in WorkflowTemplate.objects.filter(
                organization=request.organization
            )
            .order_by("name")
            .values_list("uuid", "name")
        ],
        # Query: the working members for the "involving" filter.
        "members": working_members(request.organization),
    }


@require_GET
@require_role(Role.READONLY)
def execution_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    today = firm_today(org)
    form = ExecutionFilterForm(request.GET, **_filter_options(request))
    form.is_valid()  # invalid filters are shown and ignored
    data = form.cleaned_data
    qs = visible_executions(request)
    status = data.get("status") or STATUS_OPEN
    if status == STATUS_OPEN:
        qs = qs.filter(status__in=OPEN_EXECUTION_STATUSES)
    elif status == STATUS_OVERDUE:
        qs = qs.filter(overdue_q(today, OPEN_EXECUTION_STATUSES, due="due_sort"))
    elif status in ExecutionStatus.values:
        qs = qs.filter(status=status)
    if data.get("template"):
        qs = qs.filter(template__uuid=data["template"])
    client = None
    if data.get("client"):
        # Query (only with this filter): the client, which the page names.
        client = visible_clients(request).filter(uuid=data["client"]).first()
        qs = qs.filter(client=client) if client else qs.none()
    assignee_id = form.assignee_id(request.user.pk) if "assignee" in data else None
    if assignee_id is not None:
        qs = qs.filter(
            Exists(
                Task.objects.filter(
                    organization=org, execution=OuterRef("pk"), assignee_id=assignee_id
                )
            )
        )
    newest = data.get("sort") == "newest"
    qs = qs.select_related("client", "template").only(
        "uuid",
        "name",
        "status",
        "start_date",
        "due_date",
        "due_sort",
        "created_at",
        "tasks_total",
        "tasks_done",
        "client__uuid",
        "client__display_name",
        "client__client_code",
        "template__name",
    )
    # Query: one page of workflows with their clients and templates.
    page = keyset_page(
        qs,
        keys=("created_at", "id") if newest else ("due_sort", "id"),
        descending=newest,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    slug = org.slug
    detail_url = row_url("workflows:execution_detail", "execution_uuid", org_slug=slug)
    client_url = row_url("clients:client_detail", "client_uuid", org_slug=slug)
    for e in page.rows:
        e.detail_url = detail_url(e.uuid)
        e.client_url = client_url(e.client.uuid)
        e.is_overdue = e.overdue_on(today)
    params = form.url_params()
    ctx = {
        "form": form,
        "page": page,
        "client": client,
        "query": _query(params),
        "filtered": bool({k for k in params if k != "sort"}),
        "status_label": dict(form.fields["status"].choices).get(status, ""),
        "can_write": request.membership.can_write,
    }
    template = "workflows/execution_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _query(params: dict) -> str:
    return urlencode({k: str(v) for k, v in params.items()})


# Starting a workflow ------------------------------------------------------------------------


@require_role(Role.STAFF)
def execution_start(request: OrgRequest, org_slug: str) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    client_key = source.get("client", "")
    choices = start_choices(request, client_key, source.get("find", ""))
    if request.method == "POST":
        form = ExecutionStartForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            client = get_object_or_404(visible_clients(request), uuid=data["client"])
            try:
                execution = execution_services.execution_start(
                    template=data["template"],
                    client=client,
                    engagement=data["engagement"],
                    start_date=data["start_date"],
                    due_date=data["due_date"],
                    name=data["name"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"“{execution.name}” started with {execution.tasks_total} steps.",
                )
                return _execution_page(request, execution)
    else:
        initial = {
            "start_date": firm_today(request.organization),
            **{
                name: request.GET[name]
                for name in ("template", "client", "engagement", "due_date", "name")
                if request.GET.get(name)
            },
        }
        if request.GET.get("start_date"):
            initial["start_date"] = request.GET["start_date"]
        if len(choices["templates"]) == 1:  # nothing to choose
            initial.setdefault("template", str(choices["templates"][0].uuid))
        form = ExecutionStartForm(initial=initial, **choices)
    ctx = {"form": form, "has_templates": bool(choices["templates"])}
    template = "workflows/execution_start.html"
    if request.htmx and request.method == "GET":
        template += "#start_form"
    return render(request, template, ctx)


# The workflow page ------------------------------------------------------------------------


@require_role(Role.READONLY)
def execution_detail(
    request: OrgRequest, org_slug: str, execution_uuid
) -> HttpResponse:
    # Query: the workflow with its client, template and engagement.
    execution = _get_execution(request, execution_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    org = request.organization
    today = firm_today(org)
    # Query: its tasks in step order, with their assignees.
    tasks = list(
        Task.objects.filter(organization=org, execution=execution)
        .select_related("assignee")
        .order_by("step_index", "id")
    )
    # Query: the dependencies between them.
    links = TaskDependency.objects.filter(
        organization=org, task__execution=execution
    ).values_list("task_id", "depends_on_id")
    by_id = {t.pk: t for t in tasks}
    waits: dict[int, list[Task]] = {}
    for task_id, depends_on_id in links:
        if depends_on_id in by_id:
            waits.setdefault(task_id, []).append(by_id[depends_on_id])
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=org.slug)
    for task in tasks:
        task.waits_for = sorted(waits.get(task.pk, []), key=lambda t: t.step_index or 0)
        task.open_waits = [t for t in task.waits_for if t.status not in CLOSED_STATUSES]
        task.detail_url = task_url(task.uuid)
        task.is_overdue = task.overdue_on(today)
    role = request.membership.role_enum
    can_write = request.membership.can_write
    ctx = {
        "execution": execution,
        "client": execution.client,
        "tasks": tasks,
        "budgeted_minutes": sum(t.budgeted_minutes for t in tasks),
        "actual_minutes": sum(t.actual_minutes for t in tasks),
        "is_overdue": execution.overdue_on(today),
        "can_write": can_write,
        "can_pause": can_write and execution.status == ExecutionStatus.ACTIVE,
        "can_resume": can_write and execution.status == ExecutionStatus.PAUSED,
        "can_cancel": role.at_least(Role.MANAGER)
        and execution.status in OPEN_EXECUTION_STATUSES,
        "can_add_task": can_write and execution.status != ExecutionStatus.CANCELLED,
    }
    if ctx["can_add_task"]:
        # Query: the working members for the new task's assignee.
        ctx["task_form"] = AdhocTaskForm(members=working_members(org))
    return render(request, "workflows/execution_detail.html", ctx)


def _execution_action(request: OrgRequest, execution_uuid, action, done: str):
    execution = _get_execution(request, execution_uuid)
    try:
        action(execution=execution, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done.format(name=execution.name))
    return _execution_page(request, execution)


@require_POST
@require_role(Role.STAFF)
def execution_pause(request: OrgRequest, org_slug: str, execution_uuid) -> HttpResponse:
    return _execution_action(
        request,
        execution_uuid,
        execution_services.execution_pause,
        "“{name}” paused: its tasks wait until you resume it.",
    )


@require_POST
@require_role(Role.STAFF)
def execution_resume(
    request: OrgRequest, org_slug: str, execution_uuid
) -> HttpResponse:
    return _execution_action(
        request,
        execution_uuid,
        execution_services.execution_resume,
        "“{name}” resumed.",
    )


@require_POST
@require_role(Role.STAFF)
def execution_cancel(
    request: OrgRequest, org_slug: str, execution_uuid
) -> HttpResponse:
    return _execution_action(
        request,
        execution_uuid,
        execution_services.execution_cancel,
        "“{name}” cancelled; its open tasks were cancelled with it.",
    )


@require_POST
@require_role(Role.STAFF)
def execution_add_task(
    request: OrgRequest, org_slug: str, execution_uuid
) -> HttpResponse:
    execution = _get_execution(request, execution_uuid)
    form = AdhocTaskForm(request.POST, members=working_members(request.organization))
    if not form.is_valid():
        _flash_errors(request, form)
        return _execution_page(request, execution)
    try:
        task = task_services.task_create_adhoc(
            organization=request.organization,
            execution=execution,
            by=request.user,
            **form.cleaned_data,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Task “{task.title}” added.")
    return _execution_page(request, execution)


# A task on its own --------------------------------------------------------------------------


@require_role(Role.STAFF)
def task_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    """An ad-hoc task outside any workflow, for a client (?client=<uuid>) or none."""
    client: Client | None = None
    client_key = request.POST.get("client") or request.GET.get("client") or ""
    if client_key:
        try:
            client = visible_clients(request).filter(uuid=client_key).first()
        except ValidationError:  # not a uuid
            client = None
    members = working_members(request.organization)
    form = AdhocTaskForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            task = task_services.task_create_adhoc(
                organization=request.organization,
                client=client,
                by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Task “{task.title}” created.")
            return _task_page(request, task)
    return render(request, "workflows/task_form.html", {"form": form, "client": client})


# The task page ---------------------------------------------------------------------------------


def _task_context(request: OrgRequest, task: Task) -> dict:
    role = request.membership.role_enum
    moves = task_services.allowed_moves(task, by=request.user, role=role)
    return {
        "task": task,
        "execution": task.execution,
        "moves": [
            {
                "status": s,
                "label": task_services.MOVE_LABELS.get(s, choice_label(TaskStatus, s)),
            }
            for s in moves
        ],
        "can_write": request.membership.can_write,
        "task_open": task.status not in CLOSED_STATUSES,
    }


@require_role(Role.READONLY)
def task_detail(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    # Query: the task with its workflow, engagement, client and people.
    task = _get_task(request, task_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    org = request.organization
    ctx = _task_context(request, task)
    # Query: what it waits for.
    ctx["waits_for"] = list(
        Task.objects.filter(organization=org, dependent_links__task=task)
        .order_by("step_index", "id")
        .only("uuid", "title", "status")
    )
    # Query: the comments with their authors.
    ctx["comments"] = list(
        TaskComment.objects.filter(organization=org, task=task)
        .select_related("author")
        .order_by("created_at", "id")
    )
    if ctx["can_write"]:
        members = working_members(org)  # Query: the members for the assign form.
        ctx["assign_form"] = AssignForm(
            members=members, initial={"assignee": task.assignee}
        )
        ctx["comment_form"] = CommentForm()
        ctx["minutes_form"] = MinutesForm()
    return render(request, "workflows/task_detail.html", ctx)


@require_POST
@require_role(Role.STAFF)
def task_status(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    task = _get_task(request, task_uuid)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with the task.")
        return _task_page(request, task)
    to_status = form.cleaned_data["to_status"]
    try:
        task = task_services.task_transition(
            task=task,
            to_status=to_status,
            by=request.user,
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"“{task.title}” is now {task.status_label.lower()}.")
    return _task_page(request, task)


@require_POST
@require_role(Role.STAFF)
def task_assign(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    task = _get_task(request, task_uuid)
    form = AssignForm(request.POST, members=working_members(request.organization))
    if not form.is_valid():
        _flash_errors(request, form)
        return _task_page(request, task)
    assignee = form.cleaned_data["assignee"]
    try:
        task_services.task_assign(task=task, assignee=assignee, by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, f"Assigned to {assignee}." if assignee else "Task unassigned."
        )
    return _task_page(request, task)


@require_POST
@require_role(Role.STAFF)
def task_checklist(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    task = _get_task(request, task_uuid)
    error = ""
    try:
        index = int(request.POST.get("index", ""))
    except ValueError:
        error = "Choose a checklist item."
    else:
        try:
            task = task_services.task_checklist_toggle(
                task=task,
                index=index,
                done=request.POST.get("done") == "1",
                by=request.user,
            )
        except ValidationError as exc:
            error = error_text(exc)
    if request.htmx:
        ctx = {
            **_task_context(request, _get_task(request, task_uuid)),
            "checklist_error": error,
        }
        return render(request, "workflows/task_detail.html#checklist", ctx)
    if error:
        messages.error(request, error)
    return _task_page(request, task)


@require_POST
@require_role(Role.STAFF)
def task_comment(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    task = _get_task(request, task_uuid)
    form = CommentForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return _task_page(request, task)
    task_services.task_comment_add(
        task=task, body=form.cleaned_data["body"], by=request.user
    )
    messages.success(request, "Comment added.")
    return _task_page(request, task)


@require_POST
@require_role(Role.STAFF)
def task_minutes(request: OrgRequest, org_slug: str, task_uuid) -> HttpResponse:
    task = _get_task(request, task_uuid)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return _task_page(request, task)
    task = task_services.task_log_minutes(
        task=task, minutes=form.cleaned_data["minutes"], by=request.user
    )
    messages.success(
        request,
        f"{form.cleaned_data['minutes']} minutes logged "
        f"({task.actual_minutes} of {task.budgeted_minutes} budgeted).",
    )
    return _task_page(request, task)


urlpatterns = [
    path("workflows/", execution_list, name="execution_list"),
    path("workflows/start/", execution_start, name="execution_start"),
    path(
        "workflows/<uuid:execution_uuid>/",
        execution_detail,
        name="execution_detail",
    ),
    path(
        "workflows/<uuid:execution_uuid>/pause/",
        execution_pause,
        name="execution_pause",
    ),
    path(
        "workflows/<uuid:execution_uuid>/resume/",
        execution_resume,
        name="execution_resume",
    ),
    path(
        "workflows/<uuid:execution_uuid>/cancel/",
        execution_cancel,
        name="execution_cancel",
    ),
    path(
        "workflows/<uuid:execution_uuid>/tasks/new/",
        execution_add_task,
        name="execution_add_task",
    ),
    path("tasks/new/", task_create, name="task_create"),
    path("tasks/<uuid:task_uuid>/", task_detail, name="task_detail"),
    path("tasks/<uuid:task_uuid>/status/", task_status, name="task_status"),
    path("tasks/<uuid:task_uuid>/assign/", task_assign, name="task_assign"),
    path("tasks/<uuid:task_uuid>/checklist/", task_checklist, name="task_checklist"),
    path("tasks/<uuid:task_uuid>/comments/", task_comment, name="task_comment"),
    path("tasks/<uuid:task_uuid>/minutes/", task_minutes, name="task_minutes"),
]
