"""Where a client opens an invoice: one registration point.

Billing emails invoices, reminders and receipts but does not know how a client
reaches an invoice: an app above it does (the portal). That app registers a
builder once, in its AppConfig.ready:

    from billing.links import register_invoice_link_builder

    @register_invoice_link_builder
    def portal_invoice_link(*, invoice) -> str:
        ...  # an absolute URL, or "" when the client has no way in

`invoice_link_for` asks each builder in turn and returns the first URL; with no
builder (or none that answers) it returns "", and the email says so in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from billing.models import Invoice

InvoiceLinkBuilder = Callable[..., str]
_builders: list[InvoiceLinkBuilder] = []


def register_invoice_link_builder(builder: InvoiceLinkBuilder) -> InvoiceLinkBuilder:
    if builder not in _builders:
        _builders.append(builder)
    return builder


def invoice_link_for(*, invoice: Invoice) -> str:
    """An absolute URL that opens `invoice` for its client, or "" when none."""
    for builder in _builders:
        url = builder(invoice=invoice)
        if url:
            return url
    return ""
