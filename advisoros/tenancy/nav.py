"""The side navigation of firm pages: which entry is current, and its HTML.

The HTML depends only on the firm's slug, whether the member administers the
firm, and the current entries, so it is rendered once per combination and
reused: twenty-odd `{% url %}` tags and their conditions cost every page about
a millisecond and a half when the template drew them each time.
"""

from __future__ import annotations

from functools import lru_cache

from django.template.loader import render_to_string
from django.urls import ResolverMatch, reverse
from django.utils.safestring import SafeString, mark_safe

# (key, label, url name, sub-entry); None marks the settings heading.
_MAIN = (
    ("dashboard", "Dashboard", "tenancy:dashboard", False),
    ("clients", "Clients", "clients:client_list", False),
    ("engagements", "Engagements", "clients:engagement_list", False),
    ("documents", "Documents", "documents:search", False),
    ("requests", "Requests", "documents:request_list", True),
    ("review", "Needs review", "documents:review_queue", True),
    ("my_work", "My work", "workflows:my_work", False),
    ("workflows", "Workflows", "workflows:execution_list", False),
    ("board", "Board", "workflows:board", True),
    ("workload", "Workload", "workflows:workload", True),
    ("recurring", "Recurring", "workflows:schedule_list", True),
    ("templates", "Templates", "workflows:template_list", True),
)
_SETTINGS = (("members", "Members", "tenancy:members"),)
_ADMIN_SETTINGS = (
    ("firm_settings", "Firm settings", "tenancy:settings"),
    ("document_settings", "Document settings", "documents:settings"),
    ("retention", "Retention", "documents:retention"),
    ("failed_jobs", "Failed jobs", "tenancy:job_failures"),
    ("audit", "Audit log", "audit:log"),
)
_DOCUMENT_ELSEWHERE = {"review_queue", "retention", "settings", "purge_confirm"}
_WORKFLOW_PAGES = {"my_work", "board", "workload"}


def current_entries(match: ResolverMatch | None) -> frozenset[str]:
    """The entries to mark current for the page `match` resolved to."""
    if match is None:
        return frozenset()
    app, name = match.app_name, match.url_name or ""
    found = set()
    if name == "dashboard":
        found.add("dashboard")
    if "engagement" in name:
        found.add("engagements")
    elif app == "clients":
        found.add("clients")
    if name == "members":
        found.add("members")
    if app == "tenancy" and name == "settings":
        found.add("firm_settings")
    if app == "tenancy" and name.startswith("job_failure"):
        found.add("failed_jobs")
    if app == "audit":
        found.add("audit")
    if app == "documents":
        if "request" in name:
            found.add("requests")
        elif name == "review_queue":
            found.add("review")
        elif name == "settings":
            found.add("document_settings")
        elif name == "retention":
            found.add("retention")
        elif "tombstone" not in name and name not in _DOCUMENT_ELSEWHERE:
            found.add("documents")
    if "tombstone" in name or name == "purge_confirm":
        found.add("retention")
    if app == "workflows":
        if name in _WORKFLOW_PAGES:
            found.add(name)
        elif "schedule" in name:
            found.add("recurring")
        elif "template" in name:
            found.add("templates")
        elif "notification" not in name:
            found.add("workflows")
    return frozenset(found)


@lru_cache(maxsize=2048)
def nav_html(slug: str, is_admin: bool, current: frozenset[str]) -> SafeString:
    def entries(rows):
        return [
            {
                "label": label,
                "url": reverse(url_name, kwargs={"org_slug": slug}),
                "sub": sub,
                "current": key in current,
            }
            for key, label, url_name, *rest in rows
            for sub in [rest[0] if rest else False]
        ]

    html = render_to_string(
        "partials/nav.html",
        {
            "main": entries(_MAIN),
            "settings": entries(_SETTINGS + (_ADMIN_SETTINGS if is_admin else ())),
        },
    )
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped)
