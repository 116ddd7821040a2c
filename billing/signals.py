"""Signals the billing app sends for other code to act on.

Receivers call a service and nothing more (STYLE.md).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction in which an invoice became paid has committed, in
# the firm's context. Keyword arguments: invoice (Invoice), organization_id (int).
invoice_paid = Signal()
