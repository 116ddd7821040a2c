"""Tabs that other apps add to the client page.

The clients app cannot import the apps built on it (documents, workflows,
billing), so they register a tab once, in their AppConfig.ready:

    from clients.tabs import register_client_tab

    register_client_tab(
        "documents", "Documents",
        context=documents_tab_context,       # (request, client) -> dict
        template="documents/client_tab.html",
    )

The tab appears before the timeline, in registration order. Its context function
keeps the page's query count constant (no query per row). `client_tab_url` is the
address of any tab, the client app's own or a registered one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse

if TYPE_CHECKING:
    from advisoros.tenancy.request import OrgRequest
    from clients.models import Client


@dataclass(frozen=True)
class ClientTab:
    key: str
    label: str
    context: Callable[..., dict[str, Any]]
    template: str


_tabs: dict[str, ClientTab] = {}


def register_client_tab(
    key: str, label: str, *, context: Callable[..., dict[str, Any]], template: str
) -> None:
    _tabs[key] = ClientTab(key=key, label=label, context=context, template=template)


def registered_client_tabs() -> dict[str, ClientTab]:
    return dict(_tabs)


def client_tab_url(request: OrgRequest, client: Client, tab: str) -> str:
    """The client page open on `tab` (the overview needs no parameter)."""
    url = reverse(
        "clients:client_detail",
        kwargs={"org_slug": request.organization.slug, "client_uuid": client.uuid},
    )
    return url if tab == "overview" else f"{url}?tab={tab}"
