"""The client timeline: one registration point for everything that happened to a client.

An app that has something to show on a client's timeline (documents uploaded,
tasks completed, invoices paid) registers a source once, in its AppConfig.ready:

    from clients.timeline import TimelineItem, register_timeline_source

    @register_timeline_source
    def invoice_events(client, *, viewer, limit):
        for invoice in Invoice.objects.filter(client=client).order_by("-issued_at")[:limit]:
            yield TimelineItem(when=invoice.issued_at, kind="invoice", title=..., url=...)

A source gets the client, the viewing member and how many items are wanted,
makes one query (the page's query count must not grow with rows), and yields
TimelineItems, newest first. The timeline merges every source and keeps the newest.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisoros.tenancy.models import Membership
    from clients.models import Client


@dataclass(frozen=True)
class TimelineItem:
    when: datetime
    kind: (
        str  # a short word for the icon and filter: "note", "engagement", "change", ...
    )
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""


TimelineSource = Callable[..., Iterable[TimelineItem]]
_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    if source not in _sources:
        _sources.append(source)
    return source


def client_timeline(
    client: Client, *, viewer: Membership, limit: int = 50
) -> list[TimelineItem]:
    streams = [source(client, viewer=viewer, limit=limit) for source in _sources]
    return list(heapq.merge(*streams, key=lambda item: item.when, reverse=True))[:limit]
