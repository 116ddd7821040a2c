"""Work on the client timeline (clients.timeline registry): tasks completed,
workflows started, workflows completed. One source, one query."""

from __future__ import annotations

from django.db.models import CharField, F, IntegerField, Value

from advisoros.row_urls import row_url
from clients.models import Client
from clients.timeline import TimelineItem, register_timeline_source
from workflows.models import ExecutionStatus, Task, TaskStatus, WorkflowExecution

# Every part of the UNION reads the same columns, in this order.
COLUMNS = ("kind", "when", "title", "uuid", "who_name", "who_email", "note", "count")


def _no_text() -> Value:
    return Value(None, output_field=CharField())


@register_timeline_source
def workflow_items(client: Client, *, viewer, limit: int):
    """The newest `limit` events of three kinds, each kind an index range of its
    own (task_client_completed; the executions' client index), merged by one
    UNION ALL ordered by time."""
    org_id = client.organization_id
    completed_tasks = (
        Task.objects.filter(
            organization_id=org_id,
            client=client,
            status=TaskStatus.COMPLETED,
            completed_at__isnull=False,
        )
        .annotate(
            kind=Value("task_completed"),
            when=F("completed_at"),
            who_name=F("completed_by__name"),  # nobody: the automation did it
            who_email=F("completed_by__email"),
            note=F("execution__name"),
            count=Value(None, output_field=IntegerField()),
        )
        .values_list(*COLUMNS)
        .order_by("-completed_at")[:limit]
    )
    executions = WorkflowExecution.objects.filter(organization_id=org_id, client=client)
    started = (
        executions.annotate(
            kind=Value("workflow_started"),
            when=F("created_at"),
            title=F("name"),
            who_name=F("created_by__name"),
            who_email=F("created_by__email"),
            note=_no_text(),
            count=F("tasks_total"),
        )
        .values_list(*COLUMNS)
        .order_by("-created_at")[:limit]
    )
    finished = (
        executions.filter(status=ExecutionStatus.COMPLETED, completed_at__isnull=False)
        .annotate(
            kind=Value("workflow_completed"),
            when=F("completed_at"),
            title=F("name"),
            who_name=_no_text(),
            who_email=_no_text(),
            note=_no_text(),
            count=F("tasks_total"),
        )
        .values_list(*COLUMNS)
        .order_by("-completed_at")[:limit]
    )
    rows = completed_tasks.union(started, finished, all=True).order_by("-when")[:limit]
    slug = viewer.organization.slug
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)
    execution_url = row_url(
        "workflows:execution_detail", "execution_uuid", org_slug=slug
    )
    for kind, when, title, uuid, who_name, who_email, note, count in rows:
        who = who_name or who_email or ""
        if kind == "task_completed":
            yield TimelineItem(
                when=when,
                kind="task",
                title=f"Task completed: {title}",
                detail=note or "Ad-hoc task",
                actor=who,
                url=task_url(uuid),
            )
        elif kind == "workflow_started":
            yield TimelineItem(
                when=when,
                kind="workflow",
                title=f"Workflow started: {title}",
                detail=f"{count} task{'' if count == 1 else 's'}",
                actor=who,
                url=execution_url(uuid),
            )
        else:
            yield TimelineItem(
                when=when,
                kind="workflow",
                title=f"Workflow completed: {title}",
                detail=f"All {count} tasks done" if count else "",
                url=execution_url(uuid),
            )
