"""seed_demo's workflows for Demo CPA: work at every stage, some overdue, a
recurring monthly close, made once; and the pages show it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from workflows.models import RecurringSchedule, Task, WorkflowExecution


@pytest.fixture
def demo_firm(db, settings) -> Organization:
    settings.DEBUG = True  # seed_demo runs only in DEBUG
    call_command("seed_demo", stdout=StringIO())
    return Organization.objects.get(slug="demo")


def test_the_demo_firm_has_workflows_at_every_stage(demo_firm):
    today = firm_today(demo_firm)
    with tenant_context(demo_firm):
        executions = list(WorkflowExecution.objects.all())
        tasks = Task.objects.all()
        statuses = {e.status for e in executions}
        in_progress = [e for e in executions if 0 < e.tasks_done < e.tasks_total]
        overdue = tasks.filter(
            due_date__lt=today, status__in=["ready", "in_progress", "in_review"]
        )

        assert len(executions) >= 12
        assert {"active", "completed"} <= statuses
        assert len(in_progress) >= 5
        assert overdue.exists()
        assert tasks.filter(status="in_progress").exists()
        assert (
            tasks.filter(status="in_review").exists()
            or tasks.filter(approved_by__isnull=False).exists()
        )
        assert tasks.filter(execution__isnull=True).count() == 1  # the ad-hoc task
        # Every counter agrees with the tasks (they moved through the engine).
        for e in executions:
            done = tasks.filter(execution=e, status__in=["completed", "skipped"])
            assert e.tasks_done == done.count()


def test_the_demo_firm_has_a_recurring_monthly_close(demo_firm):
    with tenant_context(demo_firm):
        schedules = list(RecurringSchedule.objects.select_related("template"))
        closes = WorkflowExecution.objects.filter(recurring_schedule__isnull=False)

        assert len(schedules) == 2
        assert {s.template.starter_key for s in schedules} == {"monthly_close"}
        assert {s.frequency for s in schedules} == {"monthly"}
        # Last month's and this month's periods, at least, for each client.
        assert closes.count() >= 4
        assert closes.values("period_start").distinct().count() >= 2


def test_seeding_again_adds_nothing(demo_firm, settings):
    with tenant_context(demo_firm):
        before = (WorkflowExecution.objects.count(), Task.objects.count())
    call_command("seed_demo", stdout=StringIO())
    with tenant_context(demo_firm):
        after = (WorkflowExecution.objects.count(), Task.objects.count())

    assert after == before


def test_the_demo_staff_member_has_work_on_the_pages(demo_firm, client):
    staff = User.objects.get(email="staff@demo.test")
    client.force_login(staff)

    my_work = client.get("/o/demo/work/")
    board = client.get("/o/demo/work/board/")

    assert my_work.status_code == 200 and my_work.context["page"].rows
    assert board.status_code == 200
    assert any(col["cards"] for col in board.context["columns"])
