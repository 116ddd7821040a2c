"""Each app declares its own navigation entries (advisoros/nav.py collects them):
the side navigation keeps its order across apps, each entry's own page marks it,
and no page of the site marks two entries."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLResolver, get_resolver, resolve, reverse

from advisoros.nav import current_entries, current_keys, declared_nav, nav_html


def _pages(patterns, app_name: str = "") -> Iterator[tuple[str, str]]:
    """(app name, URL name) of every named page of the site."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _pages(pattern.url_patterns, pattern.app_name or app_name)
        elif pattern.name:
            yield app_name, pattern.name


def test_each_app_declares_its_own_entries():
    entries = declared_nav()

    assert {e.app_name for e in entries} == {
        "tenancy",
        "audit",
        "clients",
        "documents",
        "workflows",
        "billing",
        "reports",
        "stripe",
        "quickbooks",
        "portal_staff",
    }
    assert len({e.key for e in entries}) == len(entries)


def test_the_entries_keep_their_order_across_apps():
    html = nav_html("alpha", True, frozenset())
    main, settings = html.split('<div class="nav-section">Settings</div>')

    assert re.findall(r">([^<]+)</a>", main) == [
        "Dashboard",
        "Clients",
        "Engagements",
        "Documents",
        "Requests",
        "Needs review",
        "My work",
        "Workflows",
        "Board",
        "Workload",
        "Recurring",
        "Templates",
        "Messages",
        "Time",
        "Invoices",
        "Recurring invoices",
        "Money reports",
        "Financial statements",
    ]
    assert re.findall(r">([^<]+)</a>", settings) == [
        "Members",
        "Firm settings",
        "Document settings",
        "Retention",
        "Billing settings",
        "Rates and capacity",
        "Online payments",
        "QuickBooks",
        "Failed jobs",
        "Audit log",
    ]


def test_owners_also_see_the_audit_integrity_page():
    html = nav_html("alpha", True, frozenset(), is_owner=True)
    settings = html.split('<div class="nav-section">Settings</div>')[1]

    assert re.findall(r">([^<]+)</a>", settings)[-2:] == [
        "Audit log",
        "Audit integrity",
    ]


def test_each_entry_is_current_on_its_own_page():
    for entry in declared_nav():
        match = resolve(reverse(entry.url_name, kwargs={"org_slug": "alpha"}))

        assert current_entries(match) == {entry.key}, entry.url_name


def test_no_page_marks_two_entries():
    marked = {
        f"{app}:{name}": current_keys(app, name)
        for app, name in _pages(get_resolver().url_patterns)
    }

    assert {page: keys for page, keys in marked.items() if len(keys) > 1} == {}
    assert marked["documents:tombstone_detail"] == {"retention"}
    assert marked["workflows:notifications"] == frozenset()
