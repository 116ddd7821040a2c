"""One meaning of "overdue" (advisoros.overdue): the filter and the row's badge agree."""

from __future__ import annotations

from advisoros.overdue import overdue_q
from advisoros.tenancy.db import tenant_context
from tests.factories import make_execution
from workflows.models import (
    OPEN_EXECUTION_STATUSES,
    OPEN_STATUSES,
    ExecutionStatus,
    Task,
    TaskStatus,
    WorkflowExecution,
)

from .pages import days, make_task, today


def test_a_task_is_overdue_when_open_and_due_before_the_firms_today(cast):
    a = cast.alpha
    for status in TaskStatus.values:
        make_task(a, f"late {status}", status=status, due_date=days(-1, a))
        make_task(a, f"today {status}", status=status, due_date=days(0, a))
    make_task(a, "undated", status=TaskStatus.READY)
    with tenant_context(a):
        found = set(
            Task.objects.filter(overdue_q(today(a), OPEN_STATUSES)).values_list(
                "title", flat=True
            )
        )
        marked = {t.title for t in Task.objects.all() if t.overdue_on(today(a))}
    expected = {
        "late pending",
        "late ready",
        "late in_progress",
        "late in_review",
    }
    assert found == marked == expected


def test_a_workflow_is_overdue_while_running_past_its_due_date(cast, make_wf_client):
    a = cast.alpha
    jane = make_wf_client(a)
    for status in ExecutionStatus.values:
        make_execution(jane, f"late {status}", status=status, due_date=days(-1, a))
    make_execution(jane, "on time", due_date=days(0, a))
    make_execution(jane, "undated")
    with tenant_context(a):
        # The list filters on due_sort (indexed; undated rows sort last).
        found = set(
            WorkflowExecution.objects.filter(
                overdue_q(today(a), OPEN_EXECUTION_STATUSES, due="due_sort")
            ).values_list("name", flat=True)
        )
        marked = {
            e.name for e in WorkflowExecution.objects.all() if e.overdue_on(today(a))
        }
    assert found == marked == {"late active", "late paused"}
