"""Document request events on the client timeline (clients.timeline registry)."""

from __future__ import annotations
