"""The workflows app's pages, under /o/<org-slug>/. Each views module owns its URLs."""

from __future__ import annotations

from workflows.views import (
    automation,
    board,
    executions,
    my_work,
    notifications,
    schedules,
    templates,
    workload,
)

app_name = "workflows"

urlpatterns = [
    *my_work.urlpatterns,
    *board.urlpatterns,
    *executions.urlpatterns,
    *templates.urlpatterns,
    *workload.urlpatterns,
    *notifications.urlpatterns,
    *schedules.urlpatterns,
    *automation.urlpatterns,
]
