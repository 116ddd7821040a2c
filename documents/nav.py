"""The documents app's navigation entries and dashboard buttons
(advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import DashboardLink, NavEntry


def _is_request_page(name: str) -> bool:
    """The firm's requests, one client's, and each request's items."""
    return "request" in name


def _is_retention_page(name: str) -> bool:
    """The retention page, its purge and the tombstones that purges leave."""
    return name in {"retention", "purge_confirm"} or "tombstone" in name


def _is_documents_page(name: str) -> bool:
    """Every other page: a document, its versions and OCR, the search."""
    return not (
        _is_request_page(name)
        or _is_retention_page(name)
        or name in {"review_queue", "settings"}
    )


NAV = [
    NavEntry(
        "documents",
        "Documents",
        "documents:search",
        order=200,
        current=_is_documents_page,
    ),
    NavEntry(
        "requests",
        "Requests",
        "documents:request_list",
        order=210,
        sub=True,
        current=_is_request_page,
    ),
    NavEntry("review", "Needs review", "documents:review_queue", order=220, sub=True),
    NavEntry(
        "document_settings",
        "Document settings",
        "documents:settings",
        order=30,
        section="settings",
        admin_only=True,
    ),
    NavEntry(
        "retention",
        "Retention",
        "documents:retention",
        order=40,
        section="settings",
        admin_only=True,
        current=_is_retention_page,
    ),
]

DASHBOARD_LINKS = [
    DashboardLink("Documents to review", "documents:review_queue", order=60),
    DashboardLink("Document requests", "documents:request_list", order=70),
]
