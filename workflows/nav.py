"""The workflows app's navigation entries and dashboard buttons
(advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import DashboardLink, NavEntry

# Entries current on their own page only (the default).
_OWN_PAGE = {"my_work", "board", "workload"}


def _is_schedule_page(name: str) -> bool:
    return "schedule" in name


def _is_template_page(name: str) -> bool:
    return "template" in name and not _is_schedule_page(name)


def _is_workflows_page(name: str) -> bool:
    """Executions, their tasks and automation; notifications mark no entry."""
    return not (
        name in _OWN_PAGE
        or _is_schedule_page(name)
        or _is_template_page(name)
        or "notification" in name
    )


NAV = [
    NavEntry("my_work", "My work", "workflows:my_work", order=300),
    NavEntry(
        "workflows",
        "Workflows",
        "workflows:execution_list",
        order=310,
        current=_is_workflows_page,
    ),
    NavEntry("board", "Board", "workflows:board", order=320, sub=True),
    NavEntry("workload", "Workload", "workflows:workload", order=330, sub=True),
    NavEntry(
        "recurring",
        "Recurring",
        "workflows:schedule_list",
        order=340,
        sub=True,
        current=_is_schedule_page,
    ),
    NavEntry(
        "templates",
        "Templates",
        "workflows:template_list",
        order=350,
        sub=True,
        current=_is_template_page,
    ),
]

DASHBOARD_LINKS = [
    DashboardLink("My work", "workflows:my_work", order=10, primary=True),
    DashboardLink("Board", "workflows:board", order=20),
]
