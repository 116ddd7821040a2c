"""Workflow templates: the firm's list with the starter library, and the editor.

Everyone in the firm reads templates; managers and above create, copy and edit
them (a template decides who does what across every client it is started for).
The editor's small moves (up/down, dependencies) are htmx POSTs that answer with
the steps list; without JavaScript the same forms redirect back to the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.http import get_only
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from workflows.forms import (
    DependenciesForm,
    StarterCopyForm,
    StepForm,
    TemplateForm,
    working_members,
)
from workflows.models import (
    AssigneeRule,
    CompletesOn,
    DueFrom,
    StepDependency,
    StepTemplate,
    WorkflowTemplate,
)
from workflows.services import templates as services
from workflows.starter_library import STARTERS, starter_copy

RULE_LABELS = dict(AssigneeRule.choices)
COMPLETES_LABELS = dict(CompletesOn.choices)
ROLE_LABELS = dict(Role.choices)


def _get_template(request: OrgRequest, template_uuid) -> WorkflowTemplate:
    return get_object_or_404(
        WorkflowTemplate, organization=request.organization, uuid=template_uuid
    )


def _get_step(request: OrgRequest, step_uuid) -> StepTemplate:
    return get_object_or_404(
        StepTemplate.objects.select_related("template"),
        organization=request.organization,
        uuid=step_uuid,
    )


def _editor(request: OrgRequest, template: WorkflowTemplate) -> HttpResponse:
    return redirect(
        "workflows:template_detail",
        org_slug=request.organization.slug,
        template_uuid=template.uuid,
    )


def can_edit_templates(request: OrgRequest) -> bool:
    return request.membership.has_role(Role.MANAGER)


# The list ---------------------------------------------------------------------------


@require_GET
@require_role(Role.READONLY)
def template_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: the firm's templates with their step counts, active first.
    templates = list(
        WorkflowTemplate.objects.filter(organization=request.organization)
        .annotate(step_count=Count("steps"))
        .order_by("-is_active", "name", "id")
    )
    copied = {t.starter_key for t in templates if t.starter_key}
    ctx = {
        "templates": templates,
        "starters": [
            {"starter": s, "copied": s.key in copied} for s in STARTERS.values()
        ],
        "can_edit": can_edit_templates(request),
    }
    return render(request, "workflows/template_list.html", ctx)


@require_POST
@require_role(Role.MANAGER)
def template_copy(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = StarterCopyForm(request.POST)
    key = form.cleaned_data["key"] if form.is_valid() else ""
    try:
        template = starter_copy(
            organization=request.organization, key=key, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("workflows:template_list", org_slug=request.organization.slug)
    messages.success(
        request,
        f"“{template.name}” copied to your templates. Adjust it to how your firm "
        "works.",
    )
    return _editor(request, template)


# Create and edit a template --------------------------------------------------------------


def _template_form_page(
    request: OrgRequest, form: TemplateForm, template: WorkflowTemplate | None = None
) -> HttpResponse:
    return render(
        request, "workflows/template_form.html", {"form": form, "template": template}
    )


@require_role(Role.MANAGER)
def template_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(
                organization=request.organization,
                data=form.cleaned_data,
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Template “{template.name}” created. Add its steps."
            )
            return _editor(request, template)
    return _template_form_page(request, form)


@require_role(Role.MANAGER)
def template_edit(request: OrgRequest, org_slug: str, template_uuid) -> HttpResponse:
    template = _get_template(request, template_uuid)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_update(
                template=template,
                data=form.cleaned_data,
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Template saved.")
            return _editor(request, template)
    return _template_form_page(request, form, template)


# The editor ----------------------------------------------------------------------------


def _assignee_text(step: StepTemplate) -> str:
    if step.assignee_rule == AssigneeRule.PERSON:
        return (
            str(step.assignee_user) if step.assignee_user else "A named person (gone)"
        )
    if step.assignee_rule == AssigneeRule.ROLE:
        role = ROLE_LABELS.get(step.assignee_role, step.assignee_role)
        return f"Least busy {role.lower()}"
    return RULE_LABELS.get(step.assignee_rule, step.assignee_rule)


def _due_text(step: StepTemplate) -> str:
    days = step.due_offset_days
    base = "start" if step.due_from == DueFrom.START else "due date"
    if days == 0:
        return f"On the {base}"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'after' if days > 0 else 'before'} the {base}"


def _steps_context(request: OrgRequest, template: WorkflowTemplate) -> dict:
    """The editor's steps with what each waits for (two queries)."""
    # Query: the steps in order, with a named person's user.
    steps = list(
        StepTemplate.objects.filter(
            organization=request.organization, template=template
        )
        .select_related("assignee_user")
        .order_by("position", "id")
    )
    # Query: the dependency links between them.
    links = StepDependency.objects.filter(
        organization=request.organization, step__template=template
    ).values_list("step_id", "depends_on_id")
    waits: dict[int, set[int]] = {}
    for step_id, depends_on_id in links:
        waits.setdefault(step_id, set()).add(depends_on_id)
    by_id = {s.pk: s for s in steps}
    for step in steps:
        step.waits_for = [
            by_id[pk]
            for pk in sorted(waits.get(step.pk, ()), key=lambda pk: by_id[pk].position)
        ]
        step.waits_ids = waits.get(step.pk, set())
        step.assignee_text = _assignee_text(step)
        step.due_text = _due_text(step)
        step.completes_text = (
            COMPLETES_LABELS.get(step.completes_on, "") if step.completes_on else ""
        )
        step.other_steps = [
            {"step": o, "checked": o.pk in step.waits_ids}
            for o in steps
            if o.pk != step.pk
        ]
    return {
        "steps": steps,
        "budgeted_hours": round(sum(s.budgeted_minutes for s in steps) / 60, 1),
    }


def _render_steps(
    request: OrgRequest,
    template: WorkflowTemplate,
    *,
    error: str = "",
    error_step: int | None = None,
) -> HttpResponse:
    ctx = {
        "template": template,
        "can_edit": can_edit_templates(request),
        "editor_error": error,
        "error_step": error_step,
        **_steps_context(request, template),
    }
    return render(request, "workflows/template_detail.html#steps", ctx)


@require_role(Role.READONLY)
def template_detail(request: OrgRequest, org_slug: str, template_uuid) -> HttpResponse:
    # Query: the template.
    template = _get_template(request, template_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    ctx = {
        "template": template,
        "can_edit": can_edit_templates(request),
        # Query: how many workflows were started from it.
        "execution_count": template.executions.filter(
            organization=request.organization
        ).count(),
        **_steps_context(request, template),
    }
    return render(request, "workflows/template_detail.html", ctx)


def _step_form_page(
    request: OrgRequest,
    form: StepForm,
    template: WorkflowTemplate,
    step: StepTemplate | None = None,
) -> HttpResponse:
    ctx = {"form": form, "template": template, "step": step}
    return render(request, "workflows/template_step_form.html", ctx)


def _other_steps(template: WorkflowTemplate, step: StepTemplate | None) -> list:
    qs = StepTemplate.objects.filter(
        organization_id=template.organization_id, template=template
    ).order_by("position", "id")
    if step is not None:
        qs = qs.exclude(pk=step.pk)
    return list(qs)


@require_role(Role.MANAGER)
def step_add(request: OrgRequest, org_slug: str, template_uuid) -> HttpResponse:
    template = _get_template(request, template_uuid)
    form = StepForm(
        request.POST or None,
        members=working_members(request.organization),
        others=_other_steps(template, None),
        initial={"assignee_rule": AssigneeRule.PREPARER, "due_offset_days": 7},
    )
    if request.method == "POST" and form.is_valid():
        data, depends_on = form.service_data()
        try:
            step = services.step_add(
                template=template, data=data, depends_on=depends_on, by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Step “{step.title}” added.")
            return _editor(request, template)
    return _step_form_page(request, form, template)


@require_role(Role.MANAGER)
def step_edit(request: OrgRequest, org_slug: str, step_uuid) -> HttpResponse:
    step = _get_step(request, step_uuid)
    template = step.template
    others = _other_steps(template, step)
    if request.method == "POST":
        form = StepForm(
            request.POST, members=working_members(request.organization), others=others
        )
        if form.is_valid():
            data, depends_on = form.service_data()
            try:
                services.step_update(
                    step=step, data=data, depends_on=depends_on, by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Step “{step.title}” saved.")
                return _editor(request, template)
    else:
        waits = set(
            StepDependency.objects.filter(
                organization=request.organization, step=step
            ).values_list("depends_on_id", flat=True)
        )
        form = StepForm(
            members=working_members(request.organization),
            others=others,
            initial=StepForm.initial_for(step, [o for o in others if o.pk in waits]),
        )
    return _step_form_page(request, form, template, step)


@require_POST
@require_role(Role.MANAGER)
def step_remove(request: OrgRequest, org_slug: str, step_uuid) -> HttpResponse:
    step = _get_step(request, step_uuid)
    template = step.template
    services.step_remove(step=step, by=request.user)
    messages.success(
        request,
        f"Step “{step.title}” removed. Workflows already started keep their task.",
    )
    return _editor(request, template)


@require_POST
@require_role(Role.MANAGER)
def step_move(request: OrgRequest, org_slug: str, step_uuid) -> HttpResponse:
    step = _get_step(request, step_uuid)
    template = step.template
    error = ""
    try:
        services.step_move(
            step=step, direction=request.POST.get("direction", ""), by=request.user
        )
    except ValidationError as exc:
        error = error_text(exc)
    if request.htmx:
        return _render_steps(request, template, error=error, error_step=step.pk)
    if error:
        messages.error(request, error)
    return _editor(request, template)


@require_POST
@require_role(Role.MANAGER)
def step_dependencies(request: OrgRequest, org_slug: str, step_uuid) -> HttpResponse:
    step = _get_step(request, step_uuid)
    template = step.template
    form = DependenciesForm(request.POST, others=_other_steps(template, step))
    error = ""
    if not form.is_valid():
        error = "Choose steps of this template."
    else:
        try:
            services.step_set_dependencies(
                step=step, depends_on=form.cleaned_data["depends_on"], by=request.user
            )
        except ValidationError as exc:
            error = error_text(exc)
    if request.htmx:
        return _render_steps(request, template, error=error, error_step=step.pk)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{step.title}” now waits for what you chose.")
    return _editor(request, template)


urlpatterns = [
    path("workflows/templates/", template_list, name="template_list"),
    path("workflows/templates/new/", template_create, name="template_create"),
    path("workflows/templates/copy/", template_copy, name="template_copy"),
    path(
        "workflows/templates/<uuid:template_uuid>/",
        template_detail,
        name="template_detail",
    ),
    path(
        "workflows/templates/<uuid:template_uuid>/edit/",
        template_edit,
        name="template_edit",
    ),
    path(
        "workflows/templates/<uuid:template_uuid>/steps/new/",
        step_add,
        name="step_add",
    ),
    path("workflows/steps/<uuid:step_uuid>/edit/", step_edit, name="step_edit"),
    path("workflows/steps/<uuid:step_uuid>/remove/", step_remove, name="step_remove"),
    path("workflows/steps/<uuid:step_uuid>/move/", step_move, name="step_move"),
    path(
        "workflows/steps/<uuid:step_uuid>/dependencies/",
        step_dependencies,
        name="step_dependencies",
    ),
]
