"""A link that lets a client answer a document request: one registration point.

The documents app emails clients about their requests (reminders) but does not
know how a client reaches a request: an app above it does (the portal makes a
password-free link per contact). That app registers a builder once, in its
AppConfig.ready:

    from documents.links import register_request_link_builder

    @register_request_link_builder
    def portal_link(*, request, contact) -> str:
        ...  # an absolute URL, or "" when this contact should get none

`request_link_for` asks each builder in turn and returns the first URL; with no
builder (or none that answers) it returns "", and the email says so in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clients.models import Contact
    from documents.models import DocumentRequest

RequestLinkBuilder = Callable[..., str]
_builders: list[RequestLinkBuilder] = []


def register_request_link_builder(builder: RequestLinkBuilder) -> RequestLinkBuilder:
    if builder not in _builders:
        _builders.append(builder)
    return builder


def request_link_for(*, request: DocumentRequest, contact: Contact) -> str:
    """An absolute URL that opens `request` for `contact`, or "" when none."""
    for builder in _builders:
        url = builder(request=request, contact=contact)
        if url:
            return url
    return ""
