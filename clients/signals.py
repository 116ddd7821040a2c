"""Signals the clients app sends for other apps to act on.

Receivers call a service and nothing more (STYLE.md): the business rule stays in
the sender's service or the receiver's own app.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that accepted an engagement letter has committed.
# Keyword arguments: engagement (Engagement), accepted_by (User | None: the member
# who recorded it; None when the client accepted in the portal), accepted_by_name.
engagement_letter_accepted = Signal()
