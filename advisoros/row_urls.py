"""Links for every row of a list from one reverse() per page.

reverse() costs about 70 microseconds on a small server: a 50-row list with
two links a row spends 7 ms there. `row_url` reverses once with a placeholder
uuid and returns a function that puts each row's uuid in its place.

The links are safe HTML: the reversed address is escaped once a page and a
UUID's text (hex digits and hyphens) needs none, so format_html and the
template engine pass them through instead of escaping each row's links again
(about 1.5 µs a value, four links a board card).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString

_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def row_url(
    viewname: str, uuid_kwarg: str, **kwargs
) -> Callable[[UUID | str], SafeString]:
    """`row_url("clients:client_detail", "client_uuid", org_slug=slug)(client.uuid)`."""
    url = reverse(viewname, kwargs={**kwargs, uuid_kwarg: _PLACEHOLDER})
    head, _, tail = url.rpartition(_PLACEHOLDER)
    head, tail = escape(head), escape(tail)

    def link(value: UUID | str) -> SafeString:
        text = str(value) if isinstance(value, UUID) else escape(value)
        return SafeString(f"{head}{text}{tail}")

    return link
