"""Signals the documents app sends for other apps to act on.

Receivers call a service and nothing more (STYLE.md): the business rule stays in
the sender's service or the receiver's own app.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A requested item is fulfilled: staff accepted what the client sent for it.
# Workflows listen to it (a task waiting on the client's W-2 can complete).
#
# Sent by `documents.services.requests.document_request_item_accept` once the
# transaction that accepted the item has committed, so a receiver reads committed
# rows and may queue background work safely. Keyword arguments:
#   item: the DocumentRequestItem (status "accepted"; item.request is loaded)
#   organization: the firm (Organization)
# The sender is DocumentRequestItem. A receiver's exception is logged, never raised
# into the page that accepted the item: the acceptance stands.
request_item_fulfilled = Signal()

# Staff accepted or rejected what the client sent for an item (item.status says
# which; a rejection has item.rejection_reason). The portal tells the client.
# Sent after commit like request_item_fulfilled, with the same keyword arguments.
request_item_reviewed = Signal()


def send_after_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` now (call it from transaction.on_commit); log receivers' errors."""
    for receiver, result in signal.send_robust(**kwargs):
        if isinstance(result, Exception):
            logger.error(
                "Receiver %r of a documents signal failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )
