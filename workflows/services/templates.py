"""Writes about workflow templates and their steps.

Every edit of a template or of its steps bumps the template's version; workflows
keep the version they were started from. Dependencies link steps of the same
template and may not form a circle: the refusal names the steps of the circle.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization, Role
from workflows.models import (
    AssigneeRule,
    StepDependency,
    StepTemplate,
    WorkflowTemplate,
)

TEMPLATE_FIELDS = ("name", "category", "description", "is_active")
STEP_FIELDS = (
    "title",
    "instructions",
    "checklist",
    "assignee_rule",
    "assignee_user",
    "assignee_role",
    "due_offset_days",
    "due_from",
    "budgeted_minutes",
    "needs_approval",
    "completes_on",
)


def _bump(template: WorkflowTemplate) -> None:
    WorkflowTemplate.objects.filter(pk=template.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    template.version += 1


def _only(data: dict, allowed: Iterable[str]) -> dict:
    refused = set(data) - set(allowed)
    if refused:
        raise ValueError(f"Not editable here: {', '.join(sorted(refused))}")
    return data


# Templates -----------------------------------------------------------------------


@transaction.atomic
def template_create(
    *, organization: Organization, data: dict, by: User | None
) -> WorkflowTemplate:
    template = WorkflowTemplate(
        organization=organization, created_by=by, **_only(data, TEMPLATE_FIELDS)
    )
    template.name = template.name.strip()
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(
    *, template: WorkflowTemplate, data: dict, by: User | None
) -> WorkflowTemplate:
    for name, value in _only(data, TEMPLATE_FIELDS).items():
        setattr(template, name, value)
    template.name = template.name.strip()
    template.version += 1
    template.full_clean()
    template.save()
    return template


# Steps ----------------------------------------------------------------------------


def _clean_step(step: StepTemplate) -> None:
    step.title = (step.title or "").strip()
    step.checklist = [str(item).strip() for item in step.checklist if str(item).strip()]
    rule = step.assignee_rule
    if rule != AssigneeRule.PERSON:
        step.assignee_user = None
    if rule != AssigneeRule.ROLE:
        step.assignee_role = ""
    step.full_clean(exclude=["template", "assignee_user"])
    if rule == AssigneeRule.PERSON:
        if step.assignee_user_id is None:
            raise ValidationError({"assignee_user": "Choose the person."})
        if not Membership.objects.filter(
            organization_id=step.organization_id,
            user_id=step.assignee_user_id,
            is_active=True,
            role__in=[r for r in Role.values if r != Role.READONLY],
        ).exists():
            raise ValidationError(
                {"assignee_user": "Choose an active member who can do tasks."}
            )
    if rule == AssigneeRule.ROLE and step.assignee_role in ("", Role.READONLY):
        raise ValidationError(
            {"assignee_role": "Choose the role whose least busy member gets the step."}
        )


@transaction.atomic
def step_add(
    *,
    template: WorkflowTemplate,
    data: dict,
    by: User | None,
    depends_on: Iterable[StepTemplate] = (),
) -> StepTemplate:
    """A new step at the end of the template."""
    last = StepTemplate.objects.filter(
        organization_id=template.organization_id, template=template
    ).aggregate(last=Max("position"))["last"]
    step = StepTemplate(
        organization_id=template.organization_id,
        template=template,
        position=0 if last is None else last + 1,
        **_only(data, STEP_FIELDS),
    )
    _clean_step(step)
    step.save()
    if depends_on:
        _set_dependencies(step, list(depends_on))
    _bump(template)
    return step


@transaction.atomic
def step_update(
    *,
    step: StepTemplate,
    data: dict,
    by: User | None,
    depends_on: Iterable[StepTemplate] | None = None,
) -> StepTemplate:
    for name, value in _only(data, STEP_FIELDS).items():
        setattr(step, name, value)
    _clean_step(step)
    step.save()
    if depends_on is not None:
        _set_dependencies(step, list(depends_on))
    _bump(step.template)
    return step


@transaction.atomic
def step_remove(*, step: StepTemplate, by: User | None) -> None:
    """Delete the step (its dependency links go with it) and close the gap.

    Workflows already started keep their tasks; those tasks just lose the link
    to the step they came from."""
    template = step.template
    step.delete()
    _renumber(template)
    _bump(template)


def _renumber(template: WorkflowTemplate) -> None:
    steps = list(
        StepTemplate.objects.filter(
            organization_id=template.organization_id, template=template
        ).order_by("position", "id")
    )
    changed = []
    for position, step in enumerate(steps):
        if step.position != position:
            step.position = position
            changed.append(step)
    StepTemplate.objects.bulk_update(changed, ["position"])


@transaction.atomic
def step_move(*, step: StepTemplate, direction: str, by: User | None) -> None:
    """Swap the step with the one above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise ValidationError("Move a step up or down.")
    template = step.template
    _renumber(template)  # positions 0..n-1 whatever happened before
    steps = list(
        StepTemplate.objects.select_for_update()
        .filter(organization_id=template.organization_id, template=template)
        .order_by("position", "id")
    )
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(steps):
        where = "first" if direction == "up" else "last"
        raise ValidationError(f"“{step.title}” is already the {where} step.")
    a, b = steps[index], steps[other]
    a.position, b.position = b.position, a.position
    StepTemplate.objects.bulk_update([a, b], ["position"])
    step.position = a.position
    _bump(template)


@transaction.atomic
def steps_reorder(
    *, template: WorkflowTemplate, order: list[str], by: User | None
) -> None:
    """Put the steps in the order of `order` (step uuids as strings, all of them)."""
    steps = {
        str(s.uuid): s
        for s in StepTemplate.objects.select_for_update().filter(
            organization_id=template.organization_id, template=template
        )
    }
    if sorted(order) != sorted(steps):
        raise ValidationError(
            "The new order must list every step of the template once. Reload the "
            "page: someone may have changed the steps."
        )
    for position, key in enumerate(order):
        steps[key].position = position
    StepTemplate.objects.bulk_update(steps.values(), ["position"])
    _bump(template)


# Dependencies ----------------------------------------------------------------------


def _find_circle(
    start: StepTemplate, edges: dict[int, set[int]], titles: dict[int, str]
) -> list[str] | None:
    """A path start -> ... -> start following "depends on" edges, as titles."""
    path: list[int] = [start.pk]
    seen: set[int] = set()

    def walk(node: int) -> bool:
        for nxt in sorted(edges.get(node, ()), key=lambda pk: titles.get(pk, "")):
            if nxt == start.pk:
                path.append(nxt)
                return True
            if nxt in seen:
                continue
            seen.add(nxt)
            path.append(nxt)
            if walk(nxt):
                return True
            path.pop()
        return False

    return [titles[pk] for pk in path] if walk(start.pk) else None


def _set_dependencies(step: StepTemplate, depends_on: list[StepTemplate]) -> None:
    template_id = step.template_id
    org_id = step.organization_id
    if any(
        d.template_id != template_id or d.organization_id != org_id for d in depends_on
    ):
        raise ValidationError(
            {"depends_on": "A step can only wait for steps of the same template."}
        )
    if any(d.pk == step.pk for d in depends_on):
        raise ValidationError({"depends_on": "A step cannot wait for itself."})
    # Two editors linking steps at once could close a circle neither of them
    # sees: the template's row serialises them.
    WorkflowTemplate.objects.select_for_update().filter(pk=template_id).first()
    titles = dict(
        StepTemplate.objects.filter(
            organization_id=org_id, template_id=template_id
        ).values_list("id", "title")
    )
    edges: dict[int, set[int]] = {}
    for a, b in StepDependency.objects.filter(
        organization_id=org_id, step__template_id=template_id
    ).values_list("step_id", "depends_on_id"):
        if a != step.pk:
            edges.setdefault(a, set()).add(b)
    edges[step.pk] = {d.pk for d in depends_on}
    circle = _find_circle(step, edges, titles)
    if circle:
        raise ValidationError(
            {
                "depends_on": "These steps depend on each other in a circle: "
                + " → ".join(circle)
                + ". Remove one of the links."
            },
            code="cycle",
        )
    wanted = {d.pk for d in depends_on}
    current = set(
        StepDependency.objects.filter(organization_id=org_id, step=step).values_list(
            "depends_on_id", flat=True
        )
    )
    StepDependency.objects.filter(
        organization_id=org_id, step=step, depends_on_id__in=current - wanted
    ).delete()
    StepDependency.objects.bulk_create(
        StepDependency(organization_id=org_id, step=step, depends_on_id=pk)
        for pk in sorted(wanted - current)
    )


@transaction.atomic
def step_set_dependencies(
    *, step: StepTemplate, depends_on: Iterable[StepTemplate], by: User | None
) -> StepTemplate:
    """The steps `step` waits for (replacing the earlier ones). A circle is refused
    with a ValidationError naming its steps; nothing changes then."""
    _set_dependencies(step, list(depends_on))
    _bump(step.template)
    return step
