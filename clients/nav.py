"""The clients app's navigation entries and dashboard buttons (advisoros/nav.py
collects them)."""

from __future__ import annotations

from advisoros.nav import DashboardLink, NavEntry


def _is_engagement_page(name: str) -> bool:
    return "engagement" in name


NAV = [
    NavEntry(
        "clients",
        "Clients",
        "clients:client_list",
        order=100,
        # A client's pages, its contacts, notes and imports.
        current=lambda name: not _is_engagement_page(name),
    ),
    NavEntry(
        "engagements",
        "Engagements",
        "clients:engagement_list",
        order=110,
        current=_is_engagement_page,
    ),
]

DASHBOARD_LINKS = [
    DashboardLink("Clients", "clients:client_list", order=30),
    DashboardLink(
        "My engagements", "clients:engagement_list", order=40, query="?mine=1"
    ),
    DashboardLink(
        "Overdue engagements",
        "clients:engagement_list",
        order=50,
        query="?status=overdue",
    ),
]
