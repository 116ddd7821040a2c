"""The side navigation of firm pages: each app declares its entries, the core
draws them.

An app lists its entries in `<app>/nav.py` as `NAV`, a list of `NavEntry`, and
its buttons in the dashboard's "Your work" panel as `DASHBOARD_LINKS`. The core
collects them from every installed app, as it collects schedules
(advisoros/schedules.py), so it never names an app's pages and a new app
(billing, reports) adds its own without editing the core or another app.

`order` places an entry in its section across apps: the main section gives each
app a hundred in the layer order (clients 100s, documents 200s, workflows 300s,
billing 400s ...); the settings section runs in tens.

Which entry is current is the app's call too: `current` says which URL names of
the entry's own app mark it (by default its own page only). The answer for a
page is worked out once per process, then looked up by (app, URL name).

The HTML depends only on the firm's slug, whether the member administers (or
owns) the firm, and the current entries, so it is rendered once per combination and
reused: twenty-odd `{% url %}` tags and their conditions cost every page about
a millisecond and a half when the template drew them each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from functools import cache, lru_cache
from importlib import import_module
from types import ModuleType
from typing import Any, Literal

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.urls import ResolverMatch, reverse
from django.utils.module_loading import module_has_submodule
from django.utils.safestring import SafeString, mark_safe

MODULE = "nav"


@dataclass(frozen=True)
class NavEntry:
    key: str  # unique across apps: what `current_entries` answers
    label: str
    url_name: str  # "<app_name>:<url name>", reversed with the firm's slug
    _: KW_ONLY
    order: int
    section: Literal["main", "settings"] = "main"
    sub: bool = False  # drawn indented, under the entry above it
    admin_only: bool = False  # shown to the firm's owners and admins only
    owner_only: bool = False  # shown to the firm's owners only
    # Given a URL name of the entry's own app, whether that page marks the entry
    # current; None: its own page only.
    current: Callable[[str], bool] | None = None
    # Whether the installation shows the entry at all (a feature switched on by
    # settings, read once per process like the rest of the drawn HTML); None: always.
    enabled: Callable[[], bool] | None = None

    @property
    def app_name(self) -> str:
        return self.url_name.split(":", 1)[0]

    def is_current(self, url_name: str) -> bool:
        if self.current is None:
            return url_name == self.url_name.split(":", 1)[1]
        return self.current(url_name)


@dataclass(frozen=True)
class DashboardLink:
    """A button in the dashboard's "Your work" panel."""

    label: str
    url_name: str  # "<app_name>:<url name>", reversed with the firm's slug
    _: KW_ONLY
    order: int
    query: str = ""  # appended to the address as it is: "?mine=1"
    primary: bool = False


def _nav_modules() -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, MODULE):
            yield import_module(f"{config.name}.{MODULE}")


@lru_cache(maxsize=1)
def declared_nav() -> tuple[NavEntry, ...]:
    """Every installed app's `NAV`, by `order` (collected once per process)."""
    entries = [e for module in _nav_modules() for e in getattr(module, "NAV", ())]
    keys = [e.key for e in entries]
    if twice := sorted({k for k in keys if keys.count(k) > 1}):
        raise ImproperlyConfigured(f"Navigation keys used twice: {', '.join(twice)}")
    return tuple(sorted(entries, key=lambda e: e.order))


@lru_cache(maxsize=1)
def declared_dashboard_links() -> tuple[DashboardLink, ...]:
    """Every installed app's `DASHBOARD_LINKS`, by `order`."""
    links = [
        link
        for module in _nav_modules()
        for link in getattr(module, "DASHBOARD_LINKS", ())
    ]
    return tuple(sorted(links, key=lambda link: link.order))


def current_entries(match: ResolverMatch | None) -> frozenset[str]:
    """The entries to mark current for the page `match` resolved to."""
    if match is None:
        return frozenset()
    return current_keys(match.app_name, match.url_name or "")


@cache
def current_keys(app_name: str, url_name: str) -> frozenset[str]:
    """The entries that the page `app_name:url_name` marks current. Worked out
    once per page of the site (a bounded set of names), then a dict lookup: the
    entries' rules do not run again in a warm process."""
    return frozenset(
        e.key
        for e in declared_nav()
        if e.app_name == app_name and e.is_current(url_name)
    )


@lru_cache(maxsize=2048)
def nav_html(
    slug: str, is_admin: bool, current: frozenset[str], is_owner: bool = False
) -> SafeString:
    shown = [
        e
        for e in declared_nav()
        if (is_admin or not e.admin_only)
        and (is_owner or not e.owner_only)
        and (e.enabled is None or e.enabled())
    ]

    def links(section: str) -> list[dict[str, Any]]:
        return [
            {
                "label": e.label,
                "url": reverse(e.url_name, kwargs={"org_slug": slug}),
                "sub": e.sub,
                "current": e.key in current,
            }
            for e in shown
            if e.section == section
        ]

    html = render_to_string(
        "partials/nav.html", {"main": links("main"), "settings": links("settings")}
    )
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped)
