"""The client page's Workflows tab (registered from WorkflowsConfig.ready).

The client's workflows, open ones first, with their progress, and the
client's open tasks by due date. Two queries whatever the client's history:
the page already checked that the member may see the client, and whoever sees
a client sees its work (workflows.selectors), so both read by client directly.
"""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse

from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_today
from clients.tabs import register_client_tab
from workflows.models import OPEN_STATUSES, ExecutionStatus, Task, WorkflowExecution
from workflows.selectors import due_sort

EXECUTIONS_SHOWN = 50
TASKS_SHOWN = 50
STATUS_RANK = Case(
    When(status=ExecutionStatus.ACTIVE, then=Value(0)),
    When(status=ExecutionStatus.PAUSED, then=Value(1)),
    When(status=ExecutionStatus.COMPLETED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def workflows_tab_context(request, client) -> dict:
    slug = request.organization.slug
    # Query: the client's workflows, open first, soonest due first, then newest.
    executions = list(
        WorkflowExecution.objects.filter(
            organization=request.organization, client=client
        )
        .select_related("template")
        .only(
            "uuid",
            "name",
            "status",
            "start_date",
            "due_date",
            "tasks_total",
            "tasks_done",
            "completed_at",
            "created_at",
            "template__name",
            "template__category",
        )
        .annotate(rank=STATUS_RANK)
        .order_by("rank", F("due_date").asc(nulls_last=True), "-created_at", "-id")[
            : EXECUTIONS_SHOWN + 1
        ]
    )
    # Query: the client's open tasks with their assignee and workflow.
    tasks = list(
        Task.objects.filter(
            organization=request.organization,
            client=client,
            status__in=OPEN_STATUSES,
        )
        .select_related("assignee", "execution")
        .only(
            "uuid",
            "title",
            "status",
            "priority",
            "due_date",
            "assignee__name",
            "assignee__email",
            "execution__uuid",
            "execution__name",
        )
        .annotate(due_sort=due_sort())
        .order_by("due_sort", "id")[: TASKS_SHOWN + 1]
    )
    execution_url = row_url(
        "workflows:execution_detail", "execution_uuid", org_slug=slug
    )
    task_url = row_url("workflows:task_detail", "task_uuid", org_slug=slug)
    today = firm_today(request.organization)
    for execution in executions:
        execution.url = execution_url(execution.uuid)
        execution.is_overdue = execution.overdue_on(today)
    for task in tasks:
        task.url = task_url(task.uuid)
        task.execution_url = (
            execution_url(task.execution.uuid) if task.execution_id else ""
        )
        task.is_overdue = task.overdue_on(today)
    board = reverse("workflows:board", kwargs={"org_slug": slug})
    return {
        "executions": executions[:EXECUTIONS_SHOWN],
        "executions_capped": len(executions) > EXECUTIONS_SHOWN,
        "open_tasks": tasks[:TASKS_SHOWN],
        "tasks_capped": len(tasks) > TASKS_SHOWN,
        "start_url": f"{reverse('workflows:execution_start', kwargs={'org_slug': slug})}"
        f"?client={client.uuid}",
        "board_url": f"{board}?client={client.uuid}",
    }


register_client_tab(
    "workflows",
    "Workflows",
    context=workflows_tab_context,
    template="workflows/client_tab.html",
)
